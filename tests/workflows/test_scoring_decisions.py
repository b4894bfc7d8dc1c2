"""Issue 11 (4, 5, 6, 8, 9) and 14.7 at the service level: scores not guessed and echoed, 共识 with sheets
missing, a second 共识 with a reason, 重开 with a reason, 回避 checked before it is asked, names and one
precision in reports, applicants told at each gate without scores, the process/results guidance flag."""
from fractions import Fraction

import pytest
from sqlalchemy import select

from workflows import scoring
from workflows.core import audit
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.core.models import OutboxMessage
from workflows.scoring.models import Consensus, ScoreSheet

from .scoringdata import T_MATERIAL, T_SITE, add_roster, assign_all, open_phase, score, uniform
from .test_results import make_apps, score_all, sign_off, site_setup


@pytest.fixture
def s(sessions, settings):
    with sessions.begin() as session:
        add_roster(session, T_MATERIAL)
        open_phase(session, settings, "material", T_MATERIAL)
        yield session


def outbox(session, kind):
    return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)).all()


def test_points_text_is_the_one_display_precision():
    assert scoring.points_text(Fraction(3257, 4)) == "814.25"
    assert scoring.points_text(Fraction(1629, 2)) == "814.50"
    assert scoring.points_text("689") == "689.00"
    assert scoring.points_text(Fraction(2, 3)) == "0.67"
    assert scoring.points_text(None) == "" and scoring.points_text("") == ""
    assert scoring.fmt(Fraction(814)) == "814.00"


def test_rubric_names_both_standards_and_marks_process_and_results_items(settings):
    conf = settings.award.rubric
    assert "GB/T 19580-2012" in conf.standard and "GB/Z 19579-2012" in conf.guide
    rb = scoring.configured_rubric(settings)
    assert rb.is_process("4.1.2") and rb.is_process("4.6.3")
    assert not rb.is_process("4.7.2") and not rb.category("4.7").process


def test_a_bare_number_is_points_and_the_entry_is_echoed_with_the_running_total(s, settings):
    make_apps(s, settings, 1)
    expert = assign_all(s, settings)[1][0]
    sheet = scoring.open_sheet(s, settings, actor=expert, now=T_MATERIAL, phase="material", number="SG2018-001")
    # 4.1.3 has 30 points: "15" is 15 points (50 %), never 15 %.
    assert scoring.set_item(s, settings, actor=expert, now=T_MATERIAL, sheet_id=sheet.id, item_key="4.1.3",
                            raw="15") == 50
    assert scoring.recorded(settings, sheet, ["4.1.3"]) == [
        {"key": "4.1.3", "name": "组织治理", "max": 30, "percent": 50, "points": "15.00", "band": 4,
         "band_low": 50, "band_high": 65}]
    scoring.set_item(s, settings, actor=expert, now=T_MATERIAL, sheet_id=sheet.id, item_key="4.4.3", raw="55%")
    assert scoring.running_total(settings, sheet) == Fraction(15) + Fraction(33, 4)   # 15 + 8.25
    error = scoring.set_item(s, settings, actor=expert, now=T_MATERIAL, sheet_id=sheet.id, item_key="4.1.2",
                             raw="60")
    assert error.code == "bare_above_max" and error.data["max_points"] == 50 and error.data["as_percent"]
    assert "4.1.2" not in sheet.percentages


def test_consensus_with_sheets_missing_names_who_owes_them(s, settings):
    make_apps(s, settings, 1)
    experts = assign_all(s, settings)[1]
    score(s, settings, experts[0], "SG2018-001", uniform(60))
    with pytest.raises(InvalidInput) as err:
        scoring.record_consensus(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                                 number="SG2018-001", value="600")
    assert err.value.code == "consensus_sheets_missing"
    assert (err.value.data["done"], err.value.data["total"]) == (1, 5)
    names = {"zuzhang": "组长·周立平", "e1": "专家一", "e2": "专家二", "e3": "专家三", "e4": "专家四",
             "e5": "专家五", "e6": "专家六"}
    assert err.value.data["missing"] == [names[e] for e in experts[1:]]
    assert s.scalars(select(Consensus)).all() == []


def test_a_second_consensus_needs_a_reason_and_keeps_the_first_in_the_audit(s, settings):
    make_apps(s, settings, 2)
    score_all(s, settings, {1: [60, 60, 65, 65, 70], 2: [50, 50, 55, 60, 80]})
    first = scoring.record_consensus(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                                     number="SG2018-002", value="562.5", note="统一尺度")
    checked = scoring.check_consensus(s, settings, "material", "SG2018-002", "580")
    assert checked.previous is first and checked.value == 580 and checked.aggregate == 590
    for reason in ("", "   "):
        with pytest.raises(InvalidInput) as err:
            scoring.record_consensus(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                                     number="SG2018-002", value="580", reason=reason)
        assert err.value.code == "consensus_reason_required" and err.value.data["value"] == "562.50"
    assert first.value == "562.5"
    scoring.record_consensus(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                             number="SG2018-002", value="580", note="复核后", reason="4.7 条款复核")
    assert first.value == "580" and first.note == "复核后"
    second = audit.entries(s, action="score.consensus")[-1]
    assert second.details["previous"]["value"] == "562.5" and second.details["reason"] == "4.7 条款复核"


def test_reopen_needs_a_reason_and_changes_nothing_without_one(s, settings):
    make_apps(s, settings, 1)
    expert = assign_all(s, settings)[1][0]
    sheet = score(s, settings, expert, "SG2018-001", uniform(60))
    for reason in ("", "  "):
        with pytest.raises(InvalidInput) as err:
            scoring.reopen_sheet(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                                 number="SG2018-001", expert=expert, reason=reason)
        assert err.value.code == "reason_required"
    with pytest.raises(InvalidInput) as err:
        scoring.reopen_sheet(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                             number="SG2018-001", expert=expert, reason="x" * 501)
    assert err.value.code == "reason_too_long"
    assert sheet.status == "confirmed" and audit.entries(s, action="score.reopen") == []
    with pytest.raises(NotFound) as err:
        scoring.check_reopen(s, settings, "material", "SG2018-001", "e404")
    assert err.value.code == "reopen_no_sheet"


def test_conflict_is_checked_before_it_is_asked(s, settings):
    make_apps(s, settings, 1)
    assigned = assign_all(s, settings)[1]
    expert = assigned[0]
    score(s, settings, assigned[1], "SG2018-001", uniform(60))
    app = scoring.check_conflict(s, settings, expert, "sg2018-001")
    assert scoring.conflict_withdraws(s, settings, expert, app) == ["material"]
    assert scoring.conflict_withdraws(s, settings, assigned[1], app) == []   # a confirmed sheet stays
    with pytest.raises(NotFound):
        scoring.check_conflict(s, settings, expert, "SG2018-404")
    scoring.declare_conflict(s, settings, actor=expert, now=T_MATERIAL, number="SG2018-001", reason="咨询")
    with pytest.raises(AlreadyDone):
        scoring.check_conflict(s, settings, expert, "SG2018-001")


def test_report_shows_names_and_one_precision(s, settings):
    make_apps(s, settings, 2)
    score_all(s, settings, {1: [60, 60, 65, 65, 70], 2: [50, 50, 55, 60, 80]})
    scoring.record_consensus(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                             number="SG2018-002", value="562.5")
    sign_off(s, settings, "material")
    data = scoring.report_data(s, settings, "material")
    assert data["confirmation"]["by"] == "组长·周立平"
    row = next(r for r in data["applications"] if r["number"] == "SG2018-002")
    assert row["consensus"]["by"] == "组长·周立平" and row["consensus"]["value"] == "562.50"
    assert row["score"] == "562.50" and row["aggregate"] == "590.00"
    assert (row["total_low"], row["total_high"], row["total_range"]) == ("500.00", "800.00", "300.00")
    assert {e["total"] for e in row["experts"]} == {"500.00", "550.00", "600.00", "800.00"}
    assert all(len(v.split(".")[1]) == 2 for e in row["experts"] for v in e["by_category"].values())
    assert all(len(c["low"].split(".")[1]) == 2 for c in row["categories"])
    assert "GB/Z 19579-2012" in data["guide"] and data["bands"][0] == [0, 5]


def test_applicants_hear_whether_they_go_on_at_each_gate_without_scores(s, settings):
    site_setup(s, settings, {1: 80, 2: 75, 3: 70, 4: 65, 5: 60, 6: 50})
    site = {m.recipient: m.data for m in outbox(s, "scoring.gate_site")}
    assert set(site) == {f"qiye{n}" for n in range(1, 8)}
    assert all(site[f"qiye{n}"]["selected"] for n in range(1, 7))
    assert site["qiye7"] == site["qiye7"] | {"selected": False, "reason": "below_gate", "gate": 450}
    scoring.select_finalists(s, settings, actor="mishu", now=T_SITE)
    vote = {m.recipient: m.data for m in outbox(s, "scoring.gate_vote")}
    assert set(vote) == {f"qiye{n}" for n in range(1, 7)}     # only the site-visit candidates
    assert [n for n in range(1, 7) if vote[f"qiye{n}"]["selected"]] == [1, 2, 3, 4, 5]
    assert vote["qiye6"]["reason"] == "beyond_cut" and vote["qiye6"]["vote_top"] == 5
    for data in (*site.values(), *vote.values()):   # no score, no other applicant
        assert not {"score", "scores", "total", "composite", "material", "site"} & set(data)


def test_an_applicant_beyond_the_top_six_is_told_so(s, settings):
    make_apps(s, settings, 7)
    score_all(s, settings, {1: 80, 2: 75, 3: 70, 4: 65, 5: 60, 6: 55, 7: 50})
    sign_off(s, settings, "material")
    scoring.select_candidates(s, settings, actor="mishu", now=T_MATERIAL)
    site = {m.recipient: m.data for m in outbox(s, "scoring.gate_site")}
    assert (site["qiye7"]["selected"], site["qiye7"]["reason"], site["qiye7"]["candidates_max"]) == (
        False, "beyond_cut", 6)
    assert s.scalars(select(ScoreSheet)).first() is not None
