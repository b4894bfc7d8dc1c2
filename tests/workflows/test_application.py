"""Application rules without Flask: credit code, region, eligibility, completeness, deadline, duplicates, return."""
import datetime as dt
import io

import pytest
from sqlalchemy import select

from workflows import apply
from workflows.core import people, stages
from workflows.apply.creditcode import with_check_digits
from workflows.documents.store import DocumentStore, ZipLimits
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, StageClosed, StageNotOpen
from workflows.documents.filetypes import AllowedTypes
from workflows.apply.models import AppStatus
from workflows.core.models import CardTask, OutboxMessage

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
CODE = with_check_digits("91440203MA4UABC1")
ROSTER = ("userid,name,role,organization,region\n"
          "mishu,李敏,secretariat,市监局,市直\n"
          "tuijian-wj,陈军,recommender,武江区人民政府,武江区\n"
          "tuijian-gx,王工,recommender,市经济和信息化局,市直\n")


@pytest.fixture
def s(sessions, settings, clock):
    with sessions.begin() as session:
        people.import_roster(session, ROSTER, actor="system", now=clock())
        stages.open_stage(session, settings, "apply", actor="system", now=clock())
    with sessions.begin() as session:
        yield session


@pytest.fixture
def store(settings):
    return DocumentStore(settings.storage.dir, zip_limits=ZipLimits(10**8, 100, 65536, 100, 2))


def new_app(s, settings, clock, user="qiye1", code=CODE, unit="1"):
    app, _ = apply.start(s, settings, actor=user, now=clock())
    for setter, value in ((apply.set_enterprise_name, "韶关市武江精工制造有限公司"), (apply.set_credit_code, code),
                          (apply.set_enterprise_type, "1"), (apply.set_unit, unit), (apply.set_industry, "1"),
                          (apply.set_contact_name, "张三"), (apply.set_contact_phone, "13800138000")):
        setter(s, settings, app, value, actor=user, now=clock())
    if app.department:
        apply.set_unit_reason(s, settings, app, "市属企业，由行业主管部门组织申报", actor=user, now=clock())
    for q in settings.award.eligibility:
        if (app.eligibility or {}).get(q.key) is None:
            apply.answer_eligibility(s, settings, app, q.key, "是", actor=user, now=clock())
    return app


def attach_all(s, settings, clock, store, app, skip=()):
    for i, m in enumerate(apply.applicant_materials(settings)):
        if m.required and m.key not in skip:
            stored = store.store(io.BytesIO(PDF.replace(b"Catalog", f"Catalog{i}".encode())), original_name=f"{m.key}.pdf",
                                 allowed=AllowedTypes.from_config(m.kinds), max_bytes=m.max_bytes)
            apply.attach_document(s, settings, application_id=app.id, item_key=m.key, stored=stored, source="chat",
                                actor=app.applicant, now=clock())


@pytest.mark.parametrize("text,reason", [
    ("91440203MA4UABC", "wrong_length"),
    (CODE[:-1] + ("0" if CODE[-1] != "0" else "1"), "bad_check_character"),
    ("9144020OMA4UABC1X" + "X", "bad_character"),
])
def test_bad_credit_codes_are_refused_with_the_reason(s, settings, clock, text, reason):
    app, _ = apply.start(s, settings, actor="qiye1", now=clock())
    with pytest.raises(InvalidInput) as exc:
        apply.set_credit_code(s, settings, app, text, actor="qiye1", now=clock())
    assert exc.value.code == "bad_credit_code" and exc.value.data["reason"] == reason
    assert app.credit_code is None


def test_credit_code_outside_shaoguan_is_not_eligible(s, settings, clock):
    app, _ = apply.start(s, settings, actor="qiye1", now=clock())
    with pytest.raises(apply.NotEligible) as exc:
        apply.set_credit_code(s, settings, app, with_check_digits("91440101MA5CKL01"), actor="qiye1", now=clock())
    assert exc.value.data == {"reason": "not_in_city", "region_code": "440101", "city": "韶关市"}


def test_full_width_code_is_normalised(s, settings, clock):
    app, _ = apply.start(s, settings, actor="qiye1", now=clock())
    full = "".join(chr(ord(c) + 0xFEE0) for c in CODE.lower())
    apply.set_credit_code(s, settings, app, full, actor="qiye1", now=clock())
    assert app.credit_code == CODE


def test_must_yes_no_ends_the_application_and_info_is_recorded(s, settings, clock):
    app, _ = apply.start(s, settings, actor="qiye1", now=clock())
    assert apply.answer_eligibility(s, settings, app, "performance_excellence", "否", actor="qiye1", now=clock())
    assert app.eligibility["performance_excellence"] is False and app.status == AppStatus.DRAFT
    assert not apply.answer_eligibility(s, settings, app, "no_major_accident", "否", actor="qiye1", now=clock())
    assert app.status == AppStatus.INELIGIBLE
    assert "事故" in apply.failed_reason(settings, app)
    assert apply.next_position(s, settings, app).step == apply.Step.ENDED
    with pytest.raises(NotAllowed):
        apply.answer_eligibility(s, settings, app, "no_major_accident", "是", actor="qiye1", now=clock())
    again, _ = apply.start(s, settings, actor="qiye1", now=clock())  # 申报 again re-opens the questions
    assert again.status == AppStatus.DRAFT and "no_major_accident" not in again.eligibility
    with pytest.raises(InvalidInput):
        apply.answer_eligibility(s, settings, again, "no_major_accident", "也许", actor="qiye1", now=clock())


def test_legal_person_no_ends_and_derived_questions_are_not_asked(s, settings, clock):
    app = new_app(s, settings, clock)
    assert app.eligibility["registered_in_city"] is True and app.eligibility["legal_person"] is True
    other, _ = apply.start(s, settings, actor="qiye2", now=clock())
    assert not apply.set_enterprise_type(s, settings, other, "分公司或其他分支机构", actor="qiye2", now=clock())
    assert other.status == AppStatus.INELIGIBLE and other.legal_person is False and other.enterprise_type == "branch"
    assert apply.failed_reason(settings, other).startswith("分公司等分支机构不具有法人资格")
    with pytest.raises(InvalidInput):     # a self-declared 是 is no longer an answer
        apply.set_enterprise_type(s, settings, app, "是", actor="qiye1", now=clock())


def test_flow_walks_facts_then_questions_then_materials(s, settings, clock, store):
    app, _ = apply.start(s, settings, actor="qiye1", now=clock())
    assert apply.next_position(s, settings, app).step == apply.Step.NAME
    app = new_app(s, settings, clock)
    pos = apply.next_position(s, settings, app)
    assert pos.step == apply.Step.MATERIAL and pos.data["item"] == "application_form"
    attach_all(s, settings, clock, store, app)
    assert apply.next_position(s, settings, app).step == apply.Step.READY


def test_incomplete_application_cannot_be_submitted_and_says_what_is_missing(s, settings, clock, store):
    app = new_app(s, settings, clock)
    attach_all(s, settings, clock, store, app, skip=("self_assessment",))
    with pytest.raises(InvalidInput) as exc:
        apply.submit(s, settings, app, actor="qiye1", now=clock())
    assert exc.value.code == "incomplete_application" and exc.value.data["items"] == ["自评报告"]
    assert app.status == AppStatus.DRAFT and app.number is None


def test_checklist_marks_replacement_and_recommender_item(s, settings, clock, store):
    app = new_app(s, settings, clock)
    attach_all(s, settings, clock, store, app)
    attach_all(s, settings, clock, store, app)  # replaces each item
    cl = apply.checklist(s, settings, app)
    assert cl.complete and cl.awaiting_recommender == ["recommendation"]
    assert len(apply.current_documents(app)) == 6 and len(app.documents) == 12


def test_duplicate_enterprise_is_told_who_applied(s, settings, clock):
    new_app(s, settings, clock)
    other, _ = apply.start(s, settings, actor="qiye2", now=clock())
    with pytest.raises(AlreadyDone) as exc:
        apply.set_credit_code(s, settings, other, CODE, actor="qiye2", now=clock())
    assert exc.value.code == "duplicate_enterprise" and exc.value.data["contact"] == "张三"


def test_deadline_blocks_changes_and_extension_for_one_application(s, settings, clock, store):
    app = new_app(s, settings, clock)
    clock.set(dt.datetime(2018, 11, 15, 16, 0, 1, tzinfo=dt.timezone.utc))  # 00:00:01 on the 16th in Shaoguan
    with pytest.raises(StageClosed):
        apply.set_contact_name(s, settings, app, "李四", actor="qiye1", now=clock())
    with pytest.raises(StageClosed):
        apply.start(s, settings, actor="qiye9", now=clock())
    until = dt.datetime(2018, 11, 20, 10, 0, tzinfo=dt.timezone.utc)
    apply.extend_deadline(s, settings, until=until, number=CODE, actor="mishu", now=clock(), reason="盖章延误")
    apply.set_contact_name(s, settings, app, "李四", actor="qiye1", now=clock())
    with pytest.raises(StageClosed):
        apply.start(s, settings, actor="qiye9", now=clock())
    assert s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "apply.deadline_extended")).one()
    apply.extend_deadline(s, settings, until=until, actor="mishu", now=clock())
    apply.start(s, settings, actor="qiye9", now=clock())


def test_stage_not_open_refuses_start(sessions, settings, clock):
    with sessions.begin() as s, pytest.raises(StageNotOpen):
        apply.start(s, settings, actor="qiye1", now=clock())


def test_submit_sends_to_unit_and_return_allows_resubmission(s, settings, clock, store):
    app = new_app(s, settings, clock)
    attach_all(s, settings, clock, store, app)
    apply.submit(s, settings, app, actor="qiye1", now=clock())
    assert app.status == AppStatus.SUBMITTED and app.number == "SG2018-001" and app.round == 1
    task = s.scalars(select(CardTask).where(CardTask.recipient == "tuijian-wj")).one()
    files = s.scalars(select(OutboxMessage).where(OutboxMessage.action == "send_file")).all()
    assert len(files) == 6 and {f.recipient for f in files} == {"tuijian-wj"}
    with pytest.raises(NotAllowed):
        apply.set_contact_name(s, settings, app, "李四", actor="qiye1", now=clock())
    assert not apply.may_decide(s, settings, "tuijian-gx", app)
    assert apply.may_view_documents(s, settings, "mishu", app)
    assert not apply.may_view_documents(s, settings, "qiye2", app)
    assert task.status == "open"
    with pytest.raises(InvalidInput):
        apply.decide(s, settings, application_id=app.id, decision="return", opinion="好", actor="tuijian-wj",
                     now=clock())
    with pytest.raises(InvalidInput):
        apply.decide(s, settings, application_id=app.id, decision="maybe", opinion="请补充", actor="tuijian-wj",
                     now=clock())
    with pytest.raises(NotAllowed):
        apply.decide(s, settings, application_id=app.id, decision="return", opinion="请补充近三年审计报告。",
                     actor="tuijian-gx", now=clock())   # another unit's recommender
    apply.decide(s, settings, application_id=app.id, decision="return", opinion="请补充近三年审计报告。",
                 actor="tuijian-wj", now=clock(), based_on="")
    assert app.status == AppStatus.RETURNED and app.returned_reason == "请补充近三年审计报告。"
    assert task.status == "closed"
    # a confirmation based on "no decision yet" is refused once there is one (another recommender was faster)
    with pytest.raises(AlreadyDone):
        apply.decide(s, settings, application_id=app.id, decision="recommend", opinion="同意推荐。",
                     actor="tuijian-wj", now=clock(), based_on="")
    apply.set_contact_name(s, settings, app, "李四", actor="qiye1", now=clock())
    apply.submit(s, settings, app, actor="qiye1", now=clock())
    assert app.status == AppStatus.SUBMITTED and app.number == "SG2018-001" and app.round == 2
    new_task = s.scalars(select(CardTask).where(CardTask.status == "open")).one()
    assert new_task.task_id != task.task_id
    apply.decide(s, settings, application_id=app.id, decision="recommend", opinion="同意推荐。", actor="tuijian-wj",
                 now=clock())
    assert app.status == AppStatus.RECOMMENDED


def test_department_unit_goes_to_the_department_recommender(s, settings, clock, store):
    app = new_app(s, settings, clock, unit="市经济和信息化局")
    assert apply.unit_name(settings, app) == "市经济和信息化局" and app.region_code is None
    assert [p.userid for p in apply.recommenders_for(s, settings, app)] == ["tuijian-gx"]


def test_a_county_recommends_only_the_enterprises_registered_there(s, settings, clock):
    """[seed §三(五) 各县（市、区）政府…组织企业申报] the credit code's division code (characters 3–8) names the
    county: an enterprise registered in 武江区 (440203) cannot choose 浈江区; a city department needs a reason."""
    app, _ = apply.start(s, settings, actor="qiye1", now=clock())
    for setter, value in ((apply.set_enterprise_name, "韶关市武江精工制造有限公司"), (apply.set_credit_code, CODE),
                          (apply.set_enterprise_type, "1")):
        setter(s, settings, app, value, actor="qiye1", now=clock())
    assert apply.own_county_name(settings, app) == "武江区"
    with pytest.raises(InvalidInput) as exc:
        apply.set_unit(s, settings, app, "浈江区", actor="qiye1", now=clock())
    assert exc.value.code == "unit_not_own_county" and exc.value.data["own"] == "武江区"
    assert exc.value.data["own_number"] == 1 and app.region_code is None and app.department is None
    # a city department is allowed, with a recorded reason asked next
    apply.set_unit(s, settings, app, "市经济和信息化局", actor="qiye1", now=clock())
    assert apply.missing_facts(app)[0] == "unit_reason"
    assert apply.next_position(s, settings, app).step == apply.Step.UNIT_REASON
    with pytest.raises(InvalidInput):
        apply.set_unit_reason(s, settings, app, "无", actor="qiye1", now=clock())
    apply.set_unit_reason(s, settings, app, "市属国有企业，由主管部门推荐", actor="qiye1", now=clock())
    assert app.unit_reason == "市属国有企业，由主管部门推荐" and "unit_reason" not in apply.missing_facts(app)
    # its own county: the reason is forgotten (it was the department's)
    apply.set_unit(s, settings, app, "1", actor="qiye1", now=clock())
    assert app.region_code == "440203" and app.department is None and app.unit_reason is None
    with pytest.raises(InvalidInput):
        apply.set_unit_reason(s, settings, app, "市属国有企业", actor="qiye1", now=clock())
    # a new credit code of another county drops the county chosen for the old one
    apply.set_credit_code(s, settings, app, with_check_digits("91440204MA4UHJ01"), actor="qiye1", now=clock())
    assert app.region_code is None and apply.missing_facts(app)[0] == "unit"
    apply.set_unit(s, settings, app, "浈江区", actor="qiye1", now=clock())
    # a code registered at city level (440200) names no county: any county may recommend it
    other, _ = apply.start(s, settings, actor="qiye2", now=clock())
    apply.set_credit_code(s, settings, other, with_check_digits("91440200MA4UTJ02"), actor="qiye2", now=clock())
    assert apply.own_county_name(settings, other) == ""
    apply.set_unit(s, settings, other, "南雄市", actor="qiye2", now=clock())
    assert other.region_code == "440282"


def test_an_application_to_another_county_cannot_be_submitted(s, settings, clock, store):
    app = new_app(s, settings, clock)
    attach_all(s, settings, clock, store, app)
    app.region_code = "440204"        # recorded before the rule (or by hand)
    with pytest.raises(InvalidInput) as exc:
        apply.submit(s, settings, app, actor="qiye1", now=clock())
    assert exc.value.code == "unit_not_own_county" and app.status == AppStatus.DRAFT
    apply.start(s, settings, actor="qiye1", now=clock())      # 申报 asks for the unit again
    assert app.region_code is None and apply.next_position(s, settings, app).step == apply.Step.UNIT


def test_bad_choices_and_contacts_change_nothing(s, settings, clock):
    app, _ = apply.start(s, settings, actor="qiye1", now=clock())
    for setter, value in ((apply.set_unit, "99"), (apply.set_unit, "广州"), (apply.set_industry, "0"),
                          (apply.set_contact_name, "1"), (apply.set_contact_phone, "12345"),
                          (apply.set_enterprise_name, "a")):
        with pytest.raises(InvalidInput):
            setter(s, settings, app, value, actor="qiye1", now=clock())
    assert apply.missing_facts(app) == [k for k in apply.FACTS if k != "unit_reason"]   # asked for a department
