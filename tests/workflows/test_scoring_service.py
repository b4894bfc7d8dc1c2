"""Score sheets: item and whole-sheet entry with band/step validation, confirm and lock, revise, reopen, import."""
import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from workflows.core import audit, stages
from workflows import scoring
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound, StageClosed
from workflows.apply.models import Application
from workflows.scoring.models import ScoreSheet
from workflows.scoring.scoresheet import EntryCode, EntryError

from .scoringdata import T_MATERIAL as NOW, ITEM_KEYS, add_application, add_roster, assign_all, open_phase, uniform

AFTER_DEADLINE = dt.datetime(2018, 12, 21, 1, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def s(sessions, settings):
    with sessions.begin() as session:
        add_roster(session, NOW)
        open_phase(session, settings, "material", NOW)
        add_application(session, settings, 1)
        yield session


@pytest.fixture
def expert(s, settings):
    return assign_all(s, settings)[1][0]


def test_rubric_comes_from_configuration(settings):
    rb = scoring.configured_rubric(settings)
    assert rb.validate() == [] and rb.total_max == 1000 and len(rb.items) == 23
    assert rb.bands[0] == (0, 5) and rb.step == 5 and rb.item("4.1.2").max_points == 50


def test_item_by_item_with_invalid_values_refused(s, settings, expert):
    sheet = scoring.open_sheet(s, settings, actor=expert, now=NOW, phase="material", number="SG2018-001")
    bad = scoring.set_item(s, settings, actor=expert, now=NOW, sheet_id=sheet.id, item_key="4.1.2", raw="62%")
    assert isinstance(bad, EntryError) and bad.code == EntryCode.NOT_IN_STEP and bad.data["lower"] == 60
    assert sheet.percentages == {}
    assert scoring.set_item(s, settings, actor=expert, now=NOW, sheet_id=sheet.id, item_key="4.1.2",
                            raw="110%").code == EntryCode.OUT_OF_RANGE
    # A bare number above the item's maximum is asked back, never read as a percentage.
    assert scoring.set_item(s, settings, actor=expert, now=NOW, sheet_id=sheet.id, item_key="4.1.2",
                            raw="60").code == EntryCode.BARE_ABOVE_MAX
    assert sheet.percentages == {}
    assert scoring.set_item(s, settings, actor=expert, now=NOW, sheet_id=sheet.id, item_key="4.1.2",
                            raw="27.5分") == 55
    assert scoring.set_item(s, settings, actor=expert, now=NOW, sheet_id=sheet.id, item_key="4.1.3",
                            raw="10分").code == EntryCode.POINTS_NOT_ON_STEP
    assert sheet.percentages == {"4.1.2": 55}


def test_whole_sheet_keeps_valid_entries_and_reports_each_error(s, settings, expert):
    sheet = scoring.open_sheet(s, settings, actor=expert, now=NOW, phase="material", number="SG2018-001")
    entry = scoring.enter_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id,
                                text="4.1.2=60% 4.1.3=57% 4.9.9=50% 4.1.4=abc")
    assert {(e.item_key, e.code) for e in entry.errors} == {
        ("4.1.3", EntryCode.NOT_IN_STEP), ("4.9.9", EntryCode.UNKNOWN_ITEM), ("4.1.4", EntryCode.NOT_A_NUMBER)}
    assert sheet.percentages == {"4.1.2": 60}
    assert scoring.missing_items(settings, sheet)[0] == "4.1.3"
    with pytest.raises(InvalidInput) as err:
        scoring.confirm_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id)
    assert err.value.code == "sheet_incomplete"


def test_confirm_computes_exact_total_locks_and_audits(s, settings, expert):
    sheet = scoring.open_sheet(s, settings, actor=expert, now=NOW, phase="material", number="SG2018-001")
    values = uniform(60) | {"4.1.2": 55}  # 600 - 50 × 5 % = 597.5
    scoring.enter_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id,
                        text=" ".join(f"{k}={v}%" for k, v in values.items()))
    scoring.set_comments(s, settings, actor=expert, now=NOW, sheet_id=sheet.id,
                         comments={"4.1": {"strengths": "战略清晰", "opportunities": "授权不足"}})
    scoring.confirm_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id)
    assert sheet.status == "confirmed" and sheet.total == "597.5"
    assert scoring.score_of(settings, sheet).by_category["4.1"] == 63.5
    [entry] = audit.entries(s, action="score.confirm")
    assert entry.actor == expert and entry.details["total"] == "597.5"
    with pytest.raises(AlreadyDone) as err:
        scoring.set_item(s, settings, actor=expert, now=NOW, sheet_id=sheet.id, item_key="4.1.2", raw="60")
    assert err.value.code == "sheet_locked"


def test_expert_revises_before_deadline_but_not_after(s, settings, expert):
    sheet = scoring.open_sheet(s, settings, actor=expert, now=NOW, phase="material", number="SG2018-001")
    scoring.enter_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id,
                        text=" ".join(f"{k}=50%" for k in ITEM_KEYS))
    scoring.confirm_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id)
    scoring.revise_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id)
    assert sheet.status == "draft" and audit.entries(s, action="score.revise")
    scoring.set_item(s, settings, actor=expert, now=NOW, sheet_id=sheet.id, item_key="4.1.2", raw="70%")
    scoring.confirm_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id)
    assert sheet.total == "510"
    with pytest.raises(StageClosed):
        scoring.revise_sheet(s, settings, actor=expert, now=AFTER_DEADLINE, sheet_id=sheet.id)
    assert sheet.status == "confirmed"


def test_only_the_leader_reopens_after_deadline_for_configured_days(s, settings, expert):
    sheet = scoring.open_sheet(s, settings, actor=expert, now=NOW, phase="material", number="SG2018-001")
    scoring.enter_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id,
                        text=" ".join(f"{k}=50%" for k in ITEM_KEYS))
    scoring.confirm_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id)
    with pytest.raises(NotAllowed):
        scoring.reopen_sheet(s, settings, actor="mishu", now=AFTER_DEADLINE, phase="material",
                             number="SG2018-001", expert=expert)
    scoring.reopen_sheet(s, settings, actor="zuzhang", now=AFTER_DEADLINE, phase="material",
                         number="SG2018-001", expert=expert, reason="笔误")
    assert sheet.status == "draft"
    [entry] = audit.entries(s, action="score.reopen")
    assert entry.actor == "zuzhang" and entry.details["reason"] == "笔误"
    scoring.set_item(s, settings, actor=expert, now=AFTER_DEADLINE, sheet_id=sheet.id, item_key="4.1.2",
                     raw="60%")
    scoring.confirm_sheet(s, settings, actor=expert, now=AFTER_DEADLINE, sheet_id=sheet.id)
    assert sheet.total == "505"
    # Only the reopened sheet got extra time, and only reopen_days of it.
    late = AFTER_DEADLINE + dt.timedelta(days=settings.award.rules.reopen_days, minutes=1)
    with pytest.raises(StageClosed):
        scoring.revise_sheet(s, settings, actor=expert, now=late, sheet_id=sheet.id)


def test_expert_cannot_open_unassigned_and_others_cannot_score(s, settings, expert):
    outsider = next(u for u in ("zuzhang", "e1", "e2", "e3", "e4", "e5", "e6") if u not in _assigned(s, settings))
    with pytest.raises(NotFound):
        scoring.open_sheet(s, settings, actor=outsider, now=NOW, phase="material", number="SG2018-001")
    with pytest.raises(NotAllowed):
        scoring.open_sheet(s, settings, actor="mishu", now=NOW, phase="material", number="SG2018-001")


def _assigned(s, settings):
    from workflows.scoring import experts
    return experts.assignments(s, settings, "material")[1]


def test_unscored_assignments_lists_who_owes_what(s, settings, expert):
    owed = scoring.unscored_assignments(s, settings, "material")
    assert sorted(u for u, _, _ in owed) == sorted(_assigned(s, settings))
    assert all(ids == [1] for _, ids, _ in owed)
    assert owed[0][2] == stages.deadline(s, settings, "material")
    sheet = scoring.open_sheet(s, settings, actor=expert, now=NOW, phase="material", number="SG2018-001")
    scoring.enter_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id,
                        text=" ".join(f"{k}=50%" for k in ITEM_KEYS))
    scoring.confirm_sheet(s, settings, actor=expert, now=NOW, sheet_id=sheet.id)
    assert expert not in [u for u, _, _ in scoring.unscored_assignments(s, settings, "material")]


def _csv(rows):
    header = "number,expert," + ",".join(ITEM_KEYS)
    return "\n".join([header, *(f"{n},{e}," + ",".join(vals) for n, e, vals in rows)]) + "\n"


def test_import_is_all_or_nothing_with_the_same_validation_and_audit(s, settings, expert):
    others = [u for u in _assigned(s, settings) if u != expert]
    good = ["50%"] * 23
    bad = ["50%"] * 22 + ["57%"]
    text = _csv([("SG2018-001", expert, good), ("SG2018-001", others[0], bad), ("SG2018-001", "e404", good)])
    result = scoring.import_sheets(s, settings, actor="mishu", now=NOW, phase="material", text=text)
    assert result.imported == 0
    assert {(p.line, p.code) for p in result.problems} == {(3, "not_in_step"), (4, "not_assigned")}
    assert s.scalars(select(ScoreSheet)).all() == []
    result = scoring.import_sheets(s, settings, actor="mishu", now=NOW, phase="material",
                                   text=_csv([("SG2018-001", expert, ["25分"] + good[1:])]))
    assert result.imported == 1
    sheet = s.scalars(select(ScoreSheet)).one()
    assert (sheet.source, sheet.status, sheet.total) == ("paper", "confirmed", "500")
    [entry] = audit.entries(s, action="score.confirm")
    assert entry.actor == "mishu" and entry.details["source"] == "paper"
    again = scoring.import_sheets(s, settings, actor="mishu", now=NOW, phase="material",
                                  text=_csv([("SG2018-001", expert, good)]))
    assert [p.code for p in again.problems] == ["sheet_locked"]


def test_export_lists_every_sheet_with_subtotals(s, settings, expert):
    scoring.import_sheets(s, settings, actor="mishu", now=NOW, phase="material",
                          text=_csv([("SG2018-001", expert, ["50%"] * 23)]))
    lines = scoring.export_sheets(s, settings).splitlines()
    assert lines[0].startswith("phase,number,enterprise,expert,expert_name,status,source,4.1.2")
    assert lines[1].startswith(f"material,SG2018-001,企业1,{expert},") and lines[1].count(",500,") == 1


def test_export_writes_an_enterprise_named_like_a_formula_as_text(s, settings, expert):
    app = s.scalar(select(Application).where(Application.number == "SG2018-001"))
    app.enterprise_name = '=HYPERLINK("http://example.invalid/x","查看材料")'
    scoring.import_sheets(s, settings, actor="mishu", now=NOW, phase="material",
                          text=_csv([("SG2018-001", expert, ["50%"] * 23)]))
    [row] = list(csv.DictReader(io.StringIO(scoring.export_sheets(s, settings))))
    assert row["enterprise"] == "'" + app.enterprise_name and row["number"] == "SG2018-001"
