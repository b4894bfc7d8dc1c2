"""Stage 2: the committee's 议事规则 drive the vote; small fields are confirmed; 破格 below the gate."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from workflows import scoring, committee, voting
from workflows.core import audit
from workflows.core.errors import InvalidInput, NotAllowed
from workflows.core.models import OutboxMessage
from workflows.scoring import ranking
from workflows.voting import confirmation
from workflows.voting.models import Ballot, Participation

from .test_voting import MEMBERS, VOTE_TIME, cast, seed

DAY = dt.date(2018, 9, 10)


def record(s, settings, now, **rules):
    return committee.record_meeting(s, settings, actor="mishu", now=now, held_on=DAY,
                                    attendees=["吴海", "郑涛", "冯静"], decisions="审议通过评审委员会议事规则。", **rules)


# -- the 议事规则 ------------------------------------------------------------------------------------------

def test_config_gives_the_defaults_and_the_recorded_rules_win_audited(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        seed(s, settings, clock(), n=1, rules=False)
        rules = committee.effective(s, settings)
        assert (rules.source, rules.quorum, rules.picks, rules.runoff, rules.conflict_policy) == \
            ("config", "2/3", None, True, "exclude")
        record(s, settings, clock(), quorum="3/4", picks=2, runoff=False, conflict_policy="allow",
               allow_ballot_change=True)
        rules = committee.effective(s, settings)
        assert (rules.source, rules.quorum, rules.picks, rules.runoff, rules.conflict_policy,
                rules.allow_ballot_change) == ("meeting", "3/4", 2, False, "allow", True)
        [entry] = audit.entries(s, action="committee.rules")
        assert entry.actor == "mishu" and entry.details["old"]["quorum"] == "2/3"
        assert entry.details["new"]["quorum"] == "3/4" and entry.details["attendees"] == ["吴海", "郑涛", "冯静"]
        # A later meeting changes only what it says; the rest stays.
        record(s, settings, clock(), quorum="1/2")
        rules = committee.effective(s, settings)
        assert (rules.quorum, rules.picks, rules.runoff) == ("1/2", 2, False)
        data = committee.rules_data(s, settings)
        assert data["meeting"]["held_on"] == "2018-09-10" and data["source"] == "meeting"


@pytest.mark.parametrize("kw, code", [
    ({"quorum": "3/2"}, "committee_bad_quorum"),
    ({"quorum": "abc"}, "committee_bad_quorum"),
    ({"quorum": "0/3"}, "committee_bad_quorum"),
    ({"picks": 0}, "committee_bad_picks"),
    ({"picks": 9}, "committee_bad_picks"),
    ({"runoff_hours": 0}, "committee_bad_runoff_hours"),
    ({"conflict_policy": "maybe"}, "committee_bad_conflict_policy"),
    ({"attendees": []}, "committee_no_attendees"),
    ({"decisions": " "}, "committee_no_decisions"),
    ({"held_on": dt.date(2030, 1, 1)}, "committee_meeting_in_future"),
])
def test_bad_rules_are_refused_and_nothing_changes(sessions, settings, clock, kw, code):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        seed(s, settings, clock(), n=1, rules=False)
        args = {"held_on": DAY, "attendees": ["吴海"], "decisions": "通过议事规则。", **kw}
        with pytest.raises(InvalidInput) as err:
            committee.record_meeting(s, settings, actor="mishu", now=clock(), **args)
        assert err.value.code == code
        assert committee.latest_meeting(s, settings) is None and committee.effective(s, settings).source == "config"
        assert audit.entries(s, action="committee.rules") == []


def test_only_the_secretariat_records_the_rules(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        seed(s, settings, clock())
        with pytest.raises(NotAllowed):
            committee.record_meeting(s, settings, actor="weiyuan2", now=clock(), held_on=DAY, attendees=["x"],
                                     decisions="通过。")


def test_recorded_quorum_drives_the_close(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        record(s, settings, clock(), quorum="1/1")           # everyone must vote
        voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        apps = [c.application_id for c in cands]
    for m in MEMBERS[:6]:
        assert cast(sessions, settings, clock, m, apps[:3]).status == "recorded"
    clock.advance(days=30)
    with sessions.begin() as s:
        [out] = voting.close_due(s, settings, now=clock())
        assert out.outcome == "no_quorum"                      # 6 of 7 is below the recorded 1/1 (config: 2/3)
        assert s.get(Ballot, out.ballot_id).result["quorum"] == "1/1"


def test_recorded_picks_and_no_runoff(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        record(s, settings, clock(), picks=2, runoff=False)
        ballot = voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        assert {p.required for p in s.scalars(select(Participation))} == {2}
        card = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "vote.ballot")).first()
        assert card.data["required"] == 2
        a, b, c, d, e = [x.application_id for x in cands]
    assert cast(sessions, settings, clock, "weiyuan1", [a, b, c]).status == "invalid"   # three is one too many
    plan = {"weiyuan1": [a, b], "weiyuan2": [a, b], "weiyuan3": [a, c], "weiyuan4": [a, c], "weiyuan5": [b, d],
            "weiyuan6": [c, d], "weiyuan7": [d, e]}
    for m, picks in plan.items():
        assert cast(sessions, settings, clock, m, picks).status == "recorded"
    with sessions.begin() as s:
        out = voting.close_ballot(s, settings, actor="mishu", now=clock())
        # a 4, then b, c, d tie at 3 for the two remaining seats: the rules say no automatic runoff.
        assert out.outcome == "deadlocked" and out.runoff_ballot_id is None
        assert s.scalar(select(Ballot).where(Ballot.id != ballot.id)) is None


def test_picks_must_leave_a_choice(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock(), n=4)
        record(s, settings, clock(), picks=4)
        with pytest.raises(InvalidInput) as err:
            voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        assert err.value.code == "vote_picks_too_many"
        assert s.scalar(select(Ballot)) is None


def test_recorded_conflict_policy_allow_keeps_the_candidate_on_the_card(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        record(s, settings, clock(), conflict_policy="allow")
        voting.declare_conflict(s, settings, actor="mishu", now=clock(), member="weiyuan3", application="SG2018-002")
        voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        part = s.scalar(select(Participation).where(Participation.member == "weiyuan3"))
        assert len(part.offered) == 5 and part.excluded == []


# -- small fields: confirm each candidate -------------------------------------------------------------------

def test_three_candidates_for_three_seats_are_confirmed_one_by_one(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock(), n=3)
        info = voting.check_openable(s, settings, now=clock(), candidates=cands)
        assert info["confirm"] and info["picks"] is None and info["members"] == 7
        ballot = voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        a, b, c = [x.application_id for x in cands]
        part = s.scalar(select(Participation).where(Participation.member == "weiyuan1"))
        assert part.offered == [f"app-{a}", f"no-{a}", f"app-{b}", f"no-{b}", f"app-{c}", f"no-{c}"]
        assert part.required == 3
        card = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "vote.ballot")).first()
        assert card.data["confirm"] and card.data["candidates"][0]["no_option_id"] == f"no-{a}"

    def submit(member, options):
        with sessions.begin() as s:
            part = s.scalar(select(Participation).where(Participation.member == member))
            return voting.cast_ballot(s, settings, actor=member, now=clock(), ballot_id=ballot.id,
                                      task_id=part.task_id, selected={voting.question_key(ballot.id): options},
                                      response_code="RC")
    # Both answers, or none, for a candidate: refused with its own explanation.
    bad = submit("weiyuan1", [f"app-{a}", f"no-{a}", f"app-{b}", f"app-{c}"])
    assert bad.status == "invalid" and bad.data["code"] == "confirm_each"
    assert submit("weiyuan1", [f"app-{a}", f"app-{b}"]).data["code"] == "confirm_each"
    # 同意 a by all, b by 4 of 7, c by 3 of 7 (not confirmed).
    for i, m in enumerate(MEMBERS):
        out = submit(m, [f"app-{a}", f"app-{b}" if i < 4 else f"no-{b}", f"app-{c}" if i < 3 else f"no-{c}"])
        assert out.status == "recorded", m
    with sessions.begin() as s:
        out = voting.close_ballot(s, settings, actor="mishu", now=clock())
        assert out.outcome == "decided"
        assert voting.proposed_winners(s, settings) == [a, b]            # c stays vacant
        rep = voting.report(s, settings)
        assert rep["rounds"][0]["confirm"]
        assert [(x["votes"], x["against"], x["confirmed"]) for x in rep["rounds"][0]["candidates"]] == \
            [(7, 0, True), (4, 3, True), (3, 4, False)]
        assert all(r.ok for r in voting.verify(s, settings))         # re-counted from the stored papers
        assert voting.ranked_candidates(s, settings) == [a, b, c]


def test_a_single_candidate_can_be_confirmed(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock(), n=1)
        ballot = voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        assert confirmation.is_confirmation(ballot.candidates, ballot.seats)


def test_confirmation_count_is_pure_and_ties_confirm_nobody():
    res = confirmation.count([["app-1", "no-2"], ["no-1", "app-2"]], ["app-1", "app-2"], 3)
    assert res.winners == () and res.counts == {"app-1": 1, "no-1": 1, "app-2": 1, "no-2": 1} and res.ballots == 2
    assert confirmation.validate(["app-1"], confirmation.offered(["app-1"])) == ["app-1"]
    assert confirmation.validate([], confirmation.offered(["app-1"])).code == "empty"
    assert confirmation.stored_value("no-7") == -7 and confirmation.option_of(-7) == "no-7"


# -- 破格: below the gate, by the committee --------------------------------------------------------------

def test_admission_below_the_gate_is_the_committees_with_a_reason_and_in_its_place(sessions, settings, clock):
    """Only the chair; a reason; and (issue 21.4) the stage and the state: here, at the vote, nothing is scored."""
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        seed(s, settings, clock(), n=2)
        with pytest.raises(NotAllowed):
            scoring.admit_below_gate(s, settings, actor="mishu", now=clock(), number="SG2018-002",
                                     reason="行业代表性强")
        with pytest.raises(InvalidInput) as err:
            scoring.admit_below_gate(s, settings, actor="weiyuan1", now=clock(), number="SG2018-002", reason="")
        assert err.value.code == "committee_admit_reason"
        with pytest.raises(InvalidInput) as err:
            scoring.admit_below_gate(s, settings, actor="weiyuan1", now=clock(), number="SG2018-002",
                                     reason="行业代表性强，评审委员会一致同意")
        assert err.value.code == "committee_admit_not_scored"
        assert committee.admitted_ids(s, settings) == frozenset()
        assert audit.entries(s, action="committee.admit_below_gate") == []


def test_the_gate_stays_hard_unless_admitted():
    scores = {1: 500, 2: 449, 3: 300}
    assert ranking.select_candidates(scores, 450, 6).selected == (1,)
    chosen = ranking.select_candidates(scores, 450, 6, admitted={2})
    assert chosen.selected == (1, 2) and chosen.excluded_below_gate == (3,)
