"""Aggregation (hand-computed), disagreements and consensus, the 450 gate and top-6 cut, composite and top 5."""
from fractions import Fraction

import pytest
from sqlalchemy import select

from workflows.core import audit
from workflows import scoring
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from workflows.core.models import OutboxMessage
from workflows.scoring.models import Shortlist

from .scoringdata import (
    T_MATERIAL, T_SITE, add_application, add_roster, assign_all, open_phase, score, uniform,
)

# Seven experts in the pool, all outside 乐昌市, so every application gets 5 of them.
REGION = "440281"
LEADER, CHAIR = "zuzhang", "zhuren"


@pytest.fixture
def s(sessions, settings):
    with sessions.begin() as session:
        add_roster(session, T_MATERIAL)
        open_phase(session, settings, "material", T_MATERIAL)
        yield session


def make_apps(s, settings, n):
    return [add_application(s, settings, i, region=REGION) for i in range(1, n + 1)]


def score_all(s, settings, percents_by_app, phase="material", now=T_MATERIAL):
    """Each application's experts score it; percents_by_app[i] is one percentage or one per expert."""
    assigned = assign_all(s, settings, phase, now)
    for app_id, percents in percents_by_app.items():
        experts = assigned[app_id]
        per_expert = percents if isinstance(percents, list) else [percents] * len(experts)
        for expert, p in zip(experts, per_expert):
            score(s, settings, expert, f"SG2018-{app_id:03d}", uniform(p), phase=phase, now=now)


def test_mean_and_trimmed_mean_by_hand(s, settings):
    make_apps(s, settings, 2)
    score_all(s, settings, {1: [60, 60, 65, 65, 70], 2: [50, 50, 55, 60, 80]})
    st = scoring.standing(s, settings, "material")
    assert st.aggregates == {1: Fraction(3200, 5), 2: Fraction(2950, 5)}  # 640 and 590
    trimmed = settings.with_overrides(award={"rules": settings.award.rules.model_dump() |
                                             {"aggregation": "trimmed_mean"}})
    st = scoring.standing(s, trimmed, "material")
    assert st.aggregates == {1: Fraction(1900, 3), 2: Fraction(1650, 3)}  # (600+650+650)/3, (500+550+600)/3


def test_disagreement_notifies_leader_and_blocks_the_ranking_until_consensus(s, settings):
    make_apps(s, settings, 2)
    score_all(s, settings, {1: [60, 60, 65, 65, 70], 2: [50, 50, 55, 60, 80]})
    st = scoring.standing(s, settings, "material")
    # App 1's range is exactly 100 points and 10 percentage points: not beyond the thresholds.
    assert [d.app_id for d in st.disagreements] == [2] and st.unresolved == [2] and not st.final
    [note] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "scoring.disagreement")).all()
    assert note.recipient == "zuzhang" and note.data["number"] == "SG2018-002"
    assert (note.data["total_low"], note.data["total_high"]) == ("500.00", "800.00")
    with pytest.raises(InvalidInput) as err:
        scoring.select_candidates(s, settings, actor="mishu", now=T_MATERIAL)
    assert err.value.code == "ranking_not_final" and err.value.data["unresolved"] == ["SG2018-002"]
    with pytest.raises(NotAllowed):
        scoring.record_consensus(s, settings, actor="mishu", now=T_MATERIAL, phase="material",
                                 number="SG2018-002", value="560")
    with pytest.raises(InvalidInput):
        scoring.record_consensus(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                                 number="SG2018-001", value="560")
    with pytest.raises(InvalidInput):
        scoring.record_consensus(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                                 number="SG2018-002", value="1200")
    scoring.record_consensus(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material",
                             number="SG2018-002", value="562.5", note="合议后统一尺度")
    st = scoring.standing(s, settings, "material")
    assert st.final and st.scores == {1: 640, 2: Fraction(1125, 2)}
    assert audit.entries(s, action="score.consensus")[0].details["aggregate"] == "590.00"


def test_pending_sheets_keep_the_ranking_open(s, settings):
    make_apps(s, settings, 1)
    assigned = assign_all(s, settings)
    score(s, settings, assigned[1][0], "SG2018-001", uniform(60))
    st = scoring.standing(s, settings, "material")
    assert st.pending == [1] and st.scores == {} and not st.final


def sign_off(s, settings, phase):
    """The group leader confirms the phase's report (required before the shortlist is recorded)."""
    when = T_MATERIAL if phase == "material" else T_SITE
    scoring.confirm_report(s, settings, actor="zuzhang", now=when, phase=phase)


MATERIAL = {1: 80, 2: 75, 3: 70, 4: 65, 5: 60, 6: 55, 7: 55, 8: 40}


def test_gate_and_top_six_with_a_tie_at_the_cut_is_reported_not_broken(s, settings):
    make_apps(s, settings, 8)
    score_all(s, settings, MATERIAL)
    with pytest.raises(NotFound) as unsigned:
        scoring.select_candidates(s, settings, actor="mishu", now=T_MATERIAL)
    assert unsigned.value.code == "report_not_confirmed"   # the leader signs the report off first
    sign_off(s, settings, "material")
    sel = scoring.candidates(s, settings)
    assert sel.selected == (1, 2, 3, 4, 5) and sel.excluded_below_gate == (8,)
    assert sel.tie_at_cut.tied == (6, 7) and sel.tie_at_cut.places == 1
    with pytest.raises(InvalidInput) as err:
        scoring.select_candidates(s, settings, actor="mishu", now=T_MATERIAL)
    assert err.value.code == "tie_at_cut"
    assert err.value.data["tied"] == ["SG2018-006", "SG2018-007"] and err.value.data["places"] == 1
    assert err.value.data["decider"] == "expert_leader"
    assert s.scalars(select(Shortlist)).all() == []
    # The secretariat cannot break the tie (issue 21.4); the expert group's leader does, with a reason.
    with pytest.raises(NotAllowed):
        scoring.break_tie(s, settings, actor="mishu", now=T_MATERIAL, kind="site", picks=["SG2018-007"],
                          reason="秘书处研究决定")
    with pytest.raises(InvalidInput):
        scoring.break_tie(s, settings, actor=LEADER, now=T_MATERIAL, kind="site", picks=["SG2018-005"],
                          reason="专家组会议决定")
    with pytest.raises(InvalidInput) as err:
        scoring.break_tie(s, settings, actor=LEADER, now=T_MATERIAL, kind="site", picks=["SG2018-007"], reason="")
    assert err.value.code == "tie_break_reason"
    assert s.scalars(select(Shortlist)).all() == []
    chosen = scoring.break_tie(s, settings, actor=LEADER, now=T_MATERIAL, kind="site", picks=["SG2018-007"],
                               reason="专家组会议：现场评审条件更成熟")
    assert [a.number for a in chosen] == ["SG2018-001", "SG2018-002", "SG2018-003", "SG2018-004",
                                          "SG2018-005", "SG2018-007"]
    [entry] = audit.entries(s, action="shortlist.site")
    assert entry.actor == LEADER and entry.details["tie_break"] == ["SG2018-007"]
    assert entry.details["tie_reason"] == "专家组会议：现场评审条件更成熟"
    assert entry.details["tied"] == ["SG2018-006", "SG2018-007"]
    with pytest.raises(AlreadyDone):
        scoring.select_candidates(s, settings, actor="mishu", now=T_MATERIAL)


def test_fewer_than_six_pass_the_gate(s, settings):
    make_apps(s, settings, 3)
    score_all(s, settings, {1: 45, 2: 40, 3: 90})  # 450 passes, 400 does not
    sign_off(s, settings, "material")
    chosen = scoring.select_candidates(s, settings, actor="mishu", now=T_MATERIAL)
    assert [a.number for a in chosen] == ["SG2018-003", "SG2018-001"]


def site_setup(s, settings, site_percents):
    make_apps(s, settings, 7)
    score_all(s, settings, {1: 80, 2: 75, 3: 70, 4: 65, 5: 60, 6: 45, 7: 40})
    sign_off(s, settings, "material")
    scoring.select_candidates(s, settings, actor="mishu", now=T_MATERIAL)
    open_phase(s, settings, "site", T_SITE)
    score_all(s, settings, site_percents, phase="site", now=T_SITE)
    sign_off(s, settings, "site")


def test_composite_is_forty_sixty_and_a_tie_at_five_is_reported(s, settings):
    site_setup(s, settings, {1: 80, 2: 75, 3: 70, 4: 65, 5: 50, 6: 60})
    comp = scoring.composite_ranking(s, settings)
    by_app = {e.app_id: e for e in comp.entries}
    # app 5: 0.4 × 600 + 0.6 × 500 = 540; app 6: 0.4 × 450 + 0.6 × 600 = 540.
    assert (by_app[5].material, by_app[5].site, by_app[5].composite) == (600, 500, 540)
    assert by_app[6].composite == 540 and by_app[6].tied and by_app[6].position == 5
    with pytest.raises(InvalidInput) as err:
        scoring.select_finalists(s, settings, actor="mishu", now=T_SITE)
    assert err.value.data["tied"] == ["SG2018-005", "SG2018-006"]
    with pytest.raises(InvalidInput):
        scoring.final_top(s, settings)
    scoring.break_tie(s, settings, actor=LEADER, now=T_SITE, kind="vote", picks=["SG2018-006"],
                      reason="专家组会议研究决定")
    top = scoring.final_top(s, settings)
    assert [(a.number, c) for a, c, _, _ in top] == [
        ("SG2018-001", 800), ("SG2018-002", 750), ("SG2018-003", 700), ("SG2018-004", 650), ("SG2018-006", 540)]
    assert top[4][2:] == (450, 600)


def test_final_top_computed_when_no_tie(s, settings):
    site_setup(s, settings, {1: 80, 2: 75, 3: 70, 4: 65, 5: 60, 6: 50})
    top = scoring.final_top(s, settings)
    assert [a.number for a, *_ in top] == ["SG2018-001", "SG2018-002", "SG2018-003", "SG2018-004", "SG2018-005"]
    assert top[4][1] == Fraction(600)


def test_leader_confirms_the_report_once_the_ranking_is_final(s, settings):
    make_apps(s, settings, 1)
    assign_all(s, settings)
    with pytest.raises(InvalidInput):  # nothing scored yet: the ranking is not final
        scoring.confirm_report(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material")
    score_all_assigned(s, settings)
    with pytest.raises(NotAllowed):
        scoring.confirm_report(s, settings, actor="mishu", now=T_MATERIAL, phase="material")
    row = scoring.confirm_report(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material")
    assert row.digest == scoring.ranking_digest(s, settings, "material")
    with pytest.raises(AlreadyDone):
        scoring.confirm_report(s, settings, actor="zuzhang", now=T_MATERIAL, phase="material")


def score_all_assigned(s, settings):
    from workflows.scoring import experts
    for app_id, users in experts.assignments(s, settings, "material").items():
        for u in users:
            score(s, settings, u, f"SG2018-{app_id:03d}", uniform(60))


def test_a_tie_is_decided_by_the_committee_chair_where_the_rules_say_so(s, settings):
    """Issue 21.4: `tie_at_cut_decided_by` ([decision]) names who decides; the other one cannot."""
    rules = settings.award.rules.model_copy(update={"tie_at_cut_decided_by": "committee_chair"})
    settings = settings.model_copy(update={"award": settings.award.model_copy(update={"rules": rules})})
    add_roster(s, T_MATERIAL, [(CHAIR, "主任", "committee_chair", "市政府", "")])
    make_apps(s, settings, 8)
    score_all(s, settings, MATERIAL)
    sign_off(s, settings, "material")
    with pytest.raises(InvalidInput) as err:
        scoring.select_candidates(s, settings, actor="mishu", now=T_MATERIAL)
    assert err.value.data["decider"] == "committee_chair"
    with pytest.raises(InvalidInput) as err:
        scoring.break_tie(s, settings, actor=LEADER, now=T_MATERIAL, kind="site", picks=["SG2018-006"],
                          reason="专家组会议决定")
    assert err.value.code == "tie_break_not_yours"
    chosen = scoring.break_tie(s, settings, actor=CHAIR, now=T_MATERIAL, kind="site", picks=["SG2018-006"],
                               reason="评审委员会会议决定")
    assert chosen[-1].number == "SG2018-006"
    assert audit.entries(s, action="shortlist.site")[0].actor == CHAIR


def test_admission_below_the_gate_checks_the_stage_and_the_state(s, settings):
    """Issue 21.4: 破格 only for an accepted application scored below the gate, before the shortlist."""
    add_roster(s, T_MATERIAL, [(CHAIR, "主任", "committee_chair", "市政府", "")])
    make_apps(s, settings, 8)
    add_application(s, settings, 9, region=REGION, status="rejected")
    score_all(s, settings, MATERIAL)

    def refused(number, code):
        with pytest.raises((InvalidInput, AlreadyDone)) as err:
            scoring.admit_below_gate(s, settings, actor=CHAIR, now=T_MATERIAL, number=number, reason="评审委员会会议决定")
        assert err.value.code == code

    refused("SG2018-001", "committee_admit_not_below_gate")     # 800 points: nothing to admit
    refused("SG2018-009", "committee_admit_not_accepted")       # not through the formal review
    scoring.admit_below_gate(s, settings, actor=CHAIR, now=T_MATERIAL, number="SG2018-008",
                             reason="行业代表性强，评审委员会一致同意")
    refused("SG2018-008", "committee_already_admitted")
    [entry] = audit.entries(s, action="committee.admit_below_gate")
    assert entry.actor == CHAIR and entry.details["score"] == "400.00" and entry.details["gate"] == 450
    sign_off(s, settings, "material")
    scoring.break_tie(s, settings, actor=LEADER, now=T_MATERIAL, kind="site", picks=["SG2018-006"],
                      reason="专家组会议决定")
    refused("SG2018-007", "committee_admit_too_late")           # the shortlist is recorded: too late


def test_the_leader_is_reminded_of_the_consensus_he_owes_and_experts_of_their_pledge(s, settings):
    """Issue 23.15: consensus the leader owes, and pledges not answered, are reminded like everything else."""
    from workflows.core import reminders
    from workflows.edition import PROVIDERS
    from workflows.scoring.draw_models import PanelMember
    make_apps(s, settings, 2)
    score_all(s, settings, {1: 60, 2: [90, 90, 90, 90, 40]})
    s.add(PanelMember(edition=settings.award.edition_key, userid="e6", position=7, kind="reserve", status="asked",
                      asked_at=T_MATERIAL))
    s.flush()
    owed = {(o.recipient, o.kind): o for o in reminders.owed(s, settings, PROVIDERS)}
    consensus = owed[(LEADER, "remind.consensus")]
    assert consensus.data["count"] == 1 and consensus.data["applications"][0]["number"] == "SG2018-002"
    assert consensus.deadline_key.startswith("consensus-material:")
    pledge = owed[("e6", "remind.pledge")]
    assert pledge.stage == "material" and pledge.deadline_key.startswith("pledge:")
    scoring.record_consensus(s, settings, actor=LEADER, now=T_MATERIAL, phase="material", number="SG2018-002",
                             value="850", reason="专家组协商一致")
    assert (LEADER, "remind.consensus") not in {(o.recipient, o.kind) for o in reminders.owed(s, settings, PROVIDERS)}
