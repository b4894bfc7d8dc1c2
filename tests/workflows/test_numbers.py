"""Application and complaint numbers: one rule from configuration, unique per edition, no race."""
from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import select

from workflows import apply, publicity
from workflows.apply.creditcode import with_check_digits
from workflows.apply.models import Application
from workflows.core import conversation, numbers, people, stages
from workflows.core.settings import ConfigError, Settings, parse_settings
from workflows.documents.filetypes import AllowedTypes
from workflows.documents.store import DocumentStore, ZipLimits

from .publicity_fixtures import START, make_apps, make_roster, committee_result

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
ROSTER = ("userid,name,role,organization,region\n"
          "mishu,李敏,secretariat,市监局,市直\n"
          "tuijian-wj,陈军,recommender,武江区人民政府,武江区\n")
CONCURRENT = 20


def other_edition(settings: Settings, key: str = "shaoguan-2019") -> Settings:
    """The same configuration under another edition key (prefixes kept: SG2018, TS2018)."""
    return settings.with_overrides(award={"edition_key": key, "edition_name": "第二届韶关市政府质量奖"})


def complete_draft(s, settings: Settings, store: DocumentStore, n: int, now) -> int:
    """A complete, unsubmitted application of applicant qiye<n>; its id."""
    user = f"qiye{n}"
    app, _ = apply.start(s, settings, actor=user, now=now)
    for setter, value in ((apply.set_enterprise_name, f"韶关第{n}精工制造有限公司"),
                          (apply.set_credit_code, with_check_digits(f"91440203MA4U{n:04d}")),
                          (apply.set_enterprise_type, "1"), (apply.set_unit, "1"), (apply.set_industry, "1"),
                          (apply.set_contact_name, "张三"), (apply.set_contact_phone, "13800138000")):
        setter(s, settings, app, value, actor=user, now=now)
    for q in settings.award.eligibility:
        if (app.eligibility or {}).get(q.key) is None:
            apply.answer_eligibility(s, settings, app, q.key, "是", actor=user, now=now)
    for i, m in enumerate(apply.applicant_materials(settings)):
        if m.required:
            stored = store.store(io.BytesIO(PDF.replace(b"Catalog", f"Catalog{n}x{i}".encode())),
                                 original_name=f"{m.key}.pdf", allowed=AllowedTypes.from_config(m.kinds),
                                 max_bytes=m.max_bytes)
            apply.attach_document(s, settings, application_id=app.id, item_key=m.key, stored=stored, source="chat",
                                  actor=user, now=now)
    return app.id


@pytest.fixture
def store(settings):
    return DocumentStore(settings.storage.dir, zip_limits=ZipLimits(10**8, 100, 65536, 100, 2))


def open_apply(sessions, *editions: Settings, now) -> None:
    with sessions.begin() as s:
        people.import_roster(s, ROSTER, actor="system", now=now)
        for settings in editions:
            stages.open_stage(s, settings, "apply", actor="system", now=now)


def submit(sessions, settings, app_id: int, now) -> str:
    with sessions.begin() as s:
        app = s.get(Application, app_id)
        return apply.submit(s, settings, app, actor=app.applicant, now=now).number


def test_numbers_count_per_edition_and_a_second_edition_may_keep_the_prefix(sessions, settings, store, clock):
    second = other_edition(settings)
    open_apply(sessions, settings, second, now=clock())
    with sessions.begin() as s:
        first_ids = [complete_draft(s, settings, store, n, clock()) for n in (1, 2, 3)]
        second_ids = [complete_draft(s, second, store, n, clock()) for n in (1, 2)]
    assert [submit(sessions, settings, i, clock()) for i in first_ids[:2]] == ["SG2018-001", "SG2018-002"]
    assert [submit(sessions, second, i, clock()) for i in second_ids] == ["SG2018-001", "SG2018-002"]
    assert submit(sessions, settings, first_ids[2], clock()) == "SG2018-003"
    with sessions() as s:
        # Each edition finds its own SG2018-001.
        assert apply.by_number(s, settings, "SG2018-001").id == first_ids[0]
        assert apply.by_number(s, second, "SG2018-001").id == second_ids[0]


def test_a_resubmission_keeps_its_number_and_a_rolled_back_submission_leaves_no_gap(sessions, settings, store, clock):
    open_apply(sessions, settings, now=clock())
    with sessions.begin() as s:
        ids = [complete_draft(s, settings, store, n, clock()) for n in (1, 2)]
    with pytest.raises(RuntimeError), sessions.begin() as s:
        app = s.get(Application, ids[0])
        apply.submit(s, settings, app, actor=app.applicant, now=clock())
        raise RuntimeError("the transaction fails after numbering")
    assert submit(sessions, settings, ids[1], clock()) == "SG2018-001"
    assert submit(sessions, settings, ids[0], clock()) == "SG2018-002"


def test_a_number_already_taken_is_skipped(sessions, settings):
    with sessions.begin() as s:
        make_apps(s, settings, 2)  # SG2018-001 and -002 written without the counter
        assert numbers.allocate(s, settings, "application", Application) == "SG2018-003"
        assert numbers.allocate(s, settings, "application", Application) == "SG2018-004"


def test_concurrent_submissions_get_distinct_numbers(sessions, settings, store, clock):
    """Twenty members submit at the same moment, each in its own session and thread."""
    open_apply(sessions, settings, now=clock())
    with sessions.begin() as s:
        ids = [complete_draft(s, settings, store, n, clock()) for n in range(1, CONCURRENT + 1)]
    barrier = threading.Barrier(CONCURRENT)
    got: list[str] = []
    errors: list[BaseException] = []

    def run(app_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            got.append(submit(sessions, settings, app_id, clock()))
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(got) == [f"SG2018-{n:03d}" for n in range(1, CONCURRENT + 1)]
    with sessions() as s:
        stored = s.scalars(select(Application.number).where(Application.edition == settings.award.edition_key))
        assert sorted(stored) == sorted(got)


def lodge(s, settings, now, userid):
    publicity.begin(s, settings, userid=userid, now=now)
    conv = conversation.current(s, userid)
    publicity.choose_target(s, settings, conv, "1", now=now)
    publicity.set_content(s, settings, conv, "该企业近三年发生过一次重大质量事故，申报材料中未如实说明。", now=now)
    publicity.evidence_done(s, settings, conv, now=now)
    publicity.set_name(s, settings, conv, "王小明", now=now)
    return publicity.submit(s, settings, conv, "13912345678", now=now)


def test_complaints_follow_the_same_rule_per_edition(sessions, settings):
    second = other_edition(settings)
    with sessions.begin() as s:
        make_roster(s)
        for edition in (settings, second):
            ids = make_apps(s, edition, 3)
            committee_result(s, edition, ids)
            publicity.start_publicity(s, edition, actor="mishu1", now=START)
    with sessions.begin() as s:
        assert lodge(s, settings, START, "gongzhong1").number == "TS2018-001"
        assert lodge(s, second, START, "gongzhong2").number == "TS2018-001"
        assert lodge(s, settings, START, "gongzhong3").number == "TS2018-002"
        assert [c.number for c in publicity.listing(s, second)] == ["TS2018-001"]


def test_the_two_prefixes_must_differ(settings):
    data = settings.model_dump(mode="json")
    data["award"]["application"] = {"number_prefix": "SG2018", "complaint_prefix": "sg2018"}
    with pytest.raises(ConfigError, match="award.application"):
        parse_settings(data)
