"""Every page answers every error state with a polite page and a status that says what happened, never 500.

Upload (GET and POST), complaint evidence (GET and POST), the material list and a material file, each opened
in each state: bad token, expired, another member's link, nothing behind the link, stage not open or
closed, a submitted (locked) application, an item not requested, a concluded complaint, a missing or
corrupted stored file.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Callable

import pytest
from sqlalchemy import select

from tests.bot.application_helpers import APPLICANT, open_apply, page_upload, pdf
from tests.bot.conftest import deliver, texts
from workflows import review
from workflows.apply.models import AppStatus, Application, Document
from workflows.core import audit, stages
from workflows.core.models import Person
from workflows.publicity.models import Complaint, Publicity

SH = dt.timezone(dt.timedelta(hours=8))


def _html(resp) -> str:
    body = resp.get_data(as_text=True)
    assert resp.status_code != 500 and "<html" in body, (resp.status_code, body[:300])
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    return body


def _draft(s, settings, now, *, status=AppStatus.DRAFT, applicant=APPLICANT, number=None) -> Application:
    app = Application(edition=settings.award.edition_key, applicant=applicant, status=status, number=number,
                      enterprise_name="韶关示范制造有限公司", credit_code=f"9144020300000{applicant[-5:]}",
                      legal_person=True,
                      region_code="440203", industry="制造业", contact_name="张三", contact_phone="13800138000",
                      eligibility={"registered_in_city": True, "legal_person": True, "no_major_accident": True,
                                   "performance_excellence": False}, created_at=now, updated_at=now,
                      submitted_at=now if number else None, round=1 if number else 0)
    s.add(app)
    s.flush()
    return app


# -- /upload/<token> -------------------------------------------------------------------------------------
def _upload(rt, app_id: int, item: str = "application_form", who: str = APPLICANT) -> str:
    return f"/upload/{rt.services['links'].upload_token(app_id, item, who)}"


def _in_supplement(rt, s, *, deadline_passed: bool = False) -> Application:
    now = rt.clock()
    stages.open_stage(s, rt.settings, "review", actor="system", now=now)
    app = _draft(s, rt.settings, now, status=AppStatus.RECOMMENDED, number="SG2018-001")
    for key in ("application_form", "self_assessment", "business_license", "certificates",
                "financial_statements", "safety_declaration"):
        s.add(Document(edition=app.edition, application_id=app.id, item_key=key, sha256=hashlib.sha256(key.encode()).hexdigest(),
                       size=10, kind="pdf", original_name=f"{key}.pdf", source="chat", status="received",
                       uploaded_by=APPLICANT, uploaded_at=now))
    s.flush()
    review.open_review(s, rt.settings, application_id=app.id, actor="system", now=now, send_cards=False)
    req = review.request_supplement(s, rt.settings, application_id=app.id, actor="system", now=now,
                                    items={"business_license": "副本不清晰"})
    if deadline_passed:
        req.deadline = now - dt.timedelta(minutes=1)
    return app


def _state(name: str) -> Callable:
    """Build the world for one upload-page state; return the path to open."""
    def ok(rt, s):
        return _upload(rt, _draft(s, rt.settings, rt.clock()).id)

    def tampered(rt, s):
        path = ok(rt, s)
        return path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]

    def expired(rt, s):
        path = ok(rt, s)
        rt.clock.advance(minutes=rt.settings.server.upload_token_minutes + 1)
        return path

    def other_member(rt, s):
        return _upload(rt, _draft(s, rt.settings, rt.clock()).id, who="qiye2")

    def no_application(rt, s):
        return _upload(rt, 9999)

    def unknown_item(rt, s):
        return _upload(rt, _draft(s, rt.settings, rt.clock()).id, item="no_such_item")

    def recommender_item(rt, s):
        return _upload(rt, _draft(s, rt.settings, rt.clock()).id, item="recommendation")

    def stage_closed(rt, s):
        path = ok(rt, s)
        stages.close_stage(s, rt.settings, "apply", actor="system", now=rt.clock())
        return path

    def deadline_passed(rt, s):
        rt.clock.set(dt.datetime(2018, 11, 15, 23, 30, tzinfo=SH))
        path = ok(rt, s)
        rt.clock.advance(hours=1)
        return path

    def submitted(rt, s):
        return _upload(rt, _draft(s, rt.settings, rt.clock(), status=AppStatus.SUBMITTED, number="SG2018-001").id)

    def accepted_after_the_deadline(rt, s):
        rt.clock.set(dt.datetime(2018, 11, 15, 23, 30, tzinfo=SH))
        path = _upload(rt, _draft(s, rt.settings, rt.clock(), status=AppStatus.ACCEPTED, number="SG2018-001").id)
        rt.clock.advance(hours=1)
        return path

    def not_recommended(rt, s):
        return _upload(rt, _draft(s, rt.settings, rt.clock(), status=AppStatus.NOT_RECOMMENDED,
                                  number="SG2018-001").id)

    def supplement_item_not_requested(rt, s):
        return _upload(rt, _in_supplement(rt, s).id, item="certificates")

    def supplement_expired(rt, s):
        return _upload(rt, _in_supplement(rt, s, deadline_passed=True).id, item="business_license")

    def supplement_ok(rt, s):
        return _upload(rt, _in_supplement(rt, s).id, item="business_license")

    return locals()[name]


UPLOAD_STATES = [
    ("ok", 200, "上传：申报表"),
    ("supplement_ok", 200, "上传：营业执照"),
    ("tampered", 403, "链接无效"),
    ("expired", 410, "发送 申报 获取新的上传链接"),
    ("other_member", 403, "发给另一位成员"),
    ("no_application", 404, "没有找到"),
    ("unknown_item", 404, "没有找到"),
    ("recommender_item", 409, "由推荐单位填写"),
    ("stage_closed", 409, "已于"),
    ("deadline_passed", 409, "截止"),
    ("submitted", 409, "已提交，等待推荐单位审核"),
    ("accepted_after_the_deadline", 409, "已受理"),
    ("not_recommended", 409, "推荐单位不予推荐"),
    ("supplement_item_not_requested", 409, "不在本次补正清单中"),
    ("supplement_expired", 409, "补正期限已于"),
]


@pytest.mark.parametrize("state,status,phrase", UPLOAD_STATES, ids=[s[0] for s in UPLOAD_STATES])
def test_upload_page_in_every_state(rt, http, wecom, state, status, phrase):
    open_apply(rt)
    with rt.sessions.begin() as s:
        path = _state(state)(rt, s)
    get = http.get(path)
    assert get.status_code == status and phrase in _html(get), _html(get)
    post = page_upload(http, path, "申请表.pdf", pdf("p"))
    body = _html(post)
    if status == 200:
        assert post.status_code == 200 and "已收到" in body
    else:
        assert post.status_code == status and phrase in body, body
        with rt.sessions() as s:
            assert s.scalar(select(Document).where(Document.source == "page")) is None


def test_upload_page_before_the_stage_opens_promises_a_notice_and_keeps_it(rt, http, wecom, clock):
    with rt.sessions.begin() as s:
        s.add(Person(userid="mishu", name="秘书处", role="secretariat", updated_at=clock()))
        path = _upload(rt, _draft(s, rt.settings, clock()).id)
    resp = http.get(path)
    assert resp.status_code == 409 and "开始时我们会通知您" in _html(resp)
    with rt.sessions.begin() as s:
        stages.open_stage(s, rt.settings, "apply", actor="mishu", now=clock())
    deliver(rt)
    assert any("“申报推荐”阶段已开始" in t for t in texts(wecom, APPLICANT))


# -- /evidence/<token> -----------------------------------------------------------------------------------
START = dt.datetime(2019, 2, 1, 10, 0, tzinfo=SH)


def _complaint(rt, s, *, status="submitted", complainant="gongzhong1") -> int:
    app = _draft(s, rt.settings, START, status=AppStatus.ACCEPTED, number="SG2018-001")
    pub = Publicity(edition=rt.settings.award.edition_key, start=START, end=START + dt.timedelta(days=10),
                    last_day="2019-02-10", days=10, winners=[app.id], reserve=[], removed=[], started_by="mishu")
    s.add(pub)
    s.flush()
    c = Complaint(edition=rt.settings.award.edition_key, number="TS2019-001", publicity_id=pub.id,
                  application_id=app.id, complainant=complainant, content="材料与事实不符", status=status,
                  created_at=START, submitted_at=START)
    s.add(c)
    s.flush()
    return c.id


EVIDENCE_STATES = [
    ("ok", 200, "证据"),
    ("tampered", 403, "链接无效"),
    ("expired", 410, "发送 投诉"),
    ("other_member", 403, "发给另一位成员"),
    ("no_complaint", 404, "没有找到该投诉"),
    ("concluded", 409, "已经办结"),
    ("window_closed", 409, "公示期已结束"),
]


@pytest.mark.parametrize("state,status,phrase", EVIDENCE_STATES, ids=[s[0] for s in EVIDENCE_STATES])
def test_evidence_page_in_every_state(rt, http, wecom, clock, state, status, phrase):
    clock.set(START + dt.timedelta(days=10, minutes=-30) if state == "window_closed" else START + dt.timedelta(hours=1))
    links = rt.services["links"]
    with rt.sessions.begin() as s:
        cid = _complaint(rt, s, status="concluded" if state == "concluded" else "submitted")
    who = "gongzhong2" if state == "other_member" else "gongzhong1"
    path = f"/evidence/{links.evidence_token(9999 if state == 'no_complaint' else cid, who)}"
    if state == "tampered":
        path = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    if state == "expired":
        clock.advance(minutes=rt.settings.server.upload_token_minutes + 1)
    if state == "window_closed":
        clock.advance(hours=1)
    get = http.get(path)
    assert get.status_code == status and phrase in _html(get), _html(get)
    post = page_upload(http, path, "证据.pdf", pdf("e"))
    assert post.status_code == status and (status == 200 or phrase in _html(post))


# -- /materials/<token> and /materials/<token>/<id> ------------------------------------------------------
@pytest.fixture
def stored(rt, http, wecom):
    """A draft application with one uploaded document (through the upload page)."""
    open_apply(rt)
    with rt.sessions.begin() as s:
        app_id = _draft(s, rt.settings, rt.clock()).id
    assert page_upload(http, _upload(rt, app_id), "申请表.pdf", pdf("m")).status_code == 200
    with rt.sessions() as s:
        doc = s.scalar(select(Document))
        return app_id, doc.id, doc.sha256


def test_material_pages_in_every_state(rt, http, wecom, clock, stored):
    app_id, doc_id, sha = stored
    links = rt.services["links"]
    own = links.view_token(app_id, APPLICANT)
    assert http.get(f"/materials/{own}").status_code == 200
    cases = [
        (f"/materials/{own[:-3]}{'A' if own[-3] != 'A' else 'B'}{own[-2:]}", 403, "链接无效"),
        (f"/materials/{links.view_token(app_id, 'qiye2')}", 403, "无权查看"),
        (f"/materials/{links.view_token(app_id, 'qiye2')}/{doc_id}", 403, "无权查看"),
        (f"/materials/{links.view_token(9999, APPLICANT)}", 404, "没有找到"),
        (f"/materials/{own}/{doc_id + 99}", 404, "没有找到这份文件"),
    ]
    for path, status, phrase in cases:
        resp = http.get(path)
        assert resp.status_code == status and phrase in _html(resp), (path, resp.status_code)
    # a document of another application is not reachable through this application's link
    with rt.sessions.begin() as s:
        other = _draft(s, rt.settings, clock(), applicant="qiye2")
        s.add(Document(edition=other.edition, application_id=other.id, item_key="application_form", sha256=sha, size=1, kind="pdf",
                       original_name="x.pdf", source="page", status="received", uploaded_by="qiye2",
                       uploaded_at=clock()))
        s.flush()
        foreign = s.scalar(select(Document).where(Document.application_id == other.id)).id
    resp = http.get(f"/materials/{own}/{foreign}")
    assert resp.status_code == 404 and "没有找到这份文件" in _html(resp)
    # expired
    clock.advance(hours=rt.settings.server.view_token_hours + 1)
    resp = http.get(f"/materials/{own}")
    assert resp.status_code == 410 and "查看材料链接已经过期" in _html(resp)


def test_a_missing_or_corrupted_file_is_refused_and_reported_once(rt, http, wecom, clock, stored):
    app_id, doc_id, sha = stored
    with rt.sessions.begin() as s:
        s.add(Person(userid="mishu1", name="秘书甲", role="secretariat", updated_at=clock()))
    path = rt.storage_dir / sha[:2] / sha[2:4] / sha
    own = rt.services["links"].view_token(app_id, APPLICANT)
    original = path.read_bytes()
    path.write_bytes(original.replace(b"%%EOF", b"%%EOX"))   # same size, other content
    resp = http.get(f"/materials/{own}/{doc_id}")
    assert resp.status_code == 409 and "校验值不一致" in _html(resp)
    path.unlink()
    for _ in range(2):
        resp = http.get(f"/materials/{own}/{doc_id}")
        assert resp.status_code == 410 and "找不到" in _html(resp) and "秘书处已收到通知" in _html(resp)
    deliver(rt)
    reports = [t for t in texts(wecom, "mishu1") if "存储的申报文件" in t]
    assert len(reports) == 2 and "校验失败" in reports[0] and "丢失" in reports[1] and sha in reports[1]
    with rt.sessions() as s:
        assert [e.details["reason"] for e in audit.entries(s, action="document.unavailable")] == [
            "corrupted", "missing"]


def test_an_earlier_upload_link_after_submitting_explains_itself(cb, rt, wecom, http):
    """The reported case: the applicant submits, then opens a link from an earlier prompt (GET and POST)."""
    from tests.bot.application_helpers import REQUIRED, click, fill_facts, last_card, send_file, upload_path
    open_apply(rt)
    link = upload_path(fill_facts(cb, rt, wecom)[-1])
    for key in REQUIRED:
        send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))
    assert texts(wecom, APPLICANT)  # the prompts went out
    from tests.bot.application_helpers import say
    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    click(cb, wecom, APPLICANT, card, card["button_list"][0]["key"])
    deliver(rt)
    for resp in (http.get(link), page_upload(http, link, "申请表.pdf", pdf("late"))):
        body = _html(resp)
        assert resp.status_code == 409 and "SG2018-001" in body and "已提交，等待推荐单位审核" in body
        assert "不能再修改" in body
    with rt.sessions() as s:
        assert s.scalar(select(Application)).status == AppStatus.SUBMITTED
        assert len(s.scalars(select(Document)).all()) == len(REQUIRED)
