"""The committee's own decisions after a vote: a deadlocked tie (平票决定) and a replacement vote for a place
emptied by an upheld complaint (替补决定 … 投票)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from workflows import committee, publicity, voting
from workflows.core import audit
from workflows.core.errors import AlreadyDone, DomainError, InvalidInput, NotAllowed
from workflows.core.models import OutboxMessage
from workflows.publicity import places
from workflows.voting.models import Ballot

from .publicity_fixtures import START, committee_result, make_apps, make_roster
from .test_committee import record
from .test_complaints import lodge
from .test_voting import MEMBERS, VOTE_TIME, cast, seed, vote_all

REASON = "评审委员会第二次会议讨论决定"


def _deadlock(sessions, settings, clock):
    """a wins outright; b, c, d tie at 3 for the two remaining places and the 议事规则 say 决选=无."""
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        record(s, settings, clock(), picks=2, runoff=False, majority="0")   # the tie, not the threshold
        voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        apps = [x.application_id for x in cands]
    a, b, c, d, e = apps
    vote_all(sessions, settings, clock, {"weiyuan1": [a, b], "weiyuan2": [a, b], "weiyuan3": [a, c],
                                         "weiyuan4": [a, c], "weiyuan5": [b, d], "weiyuan6": [c, d],
                                         "weiyuan7": [d, e]})
    with sessions.begin() as s:
        assert voting.close_ballot(s, settings, actor="mishu", now=clock()).outcome == "deadlocked"
    return apps


def _state(s, settings):
    ballot = voting.latest_round(s, settings)
    return ballot.outcome, ballot.decision, len(audit.entries(s, action="committee.tie_decision"))


@pytest.mark.parametrize("actor, refs, reason, code", [
    ("mishu", ["SG2018-002", "SG2018-003"], REASON, None),            # the secretariat: not allowed
    ("weiyuan1", ["SG2018-001", "SG2018-002"], REASON, "vote_tie_not_tied"),   # already a winner, not tied
    ("weiyuan1", ["SG2018-002", "SG2018-005"], REASON, "vote_tie_not_tied"),
    ("weiyuan1", ["SG2018-002"], REASON, "vote_tie_wrong_count"),               # two places are open
    ("weiyuan1", ["SG2018-002", "SG2018-003", "SG2018-004"], REASON, "vote_tie_wrong_count"),
    ("weiyuan1", ["SG2018-002", "sg2018-002"], REASON, "vote_tie_wrong_count"),  # the same one twice
    ("weiyuan1", ["SG2018-002", "SG2018-003"], "开会", "vote_tie_reason"),
])
def test_bad_tie_decisions_are_refused_and_change_nothing(sessions, settings, clock, actor, refs, reason, code):
    _deadlock(sessions, settings, clock)
    with sessions.begin() as s:
        with pytest.raises(NotAllowed if code is None else InvalidInput) as err:
            voting.decide_tie(s, settings, actor=actor, now=clock(), refs=refs, reason=reason)
        if code:
            assert err.value.code == code
    with sessions() as s:
        assert _state(s, settings) == ("deadlocked", None, 0)
        assert voting.proposed_winners(s, settings) == []
        with pytest.raises(InvalidInput) as err:
            publicity.proposed(s, settings)
        assert err.value.code == "publicity_vote_unavailable"


def test_the_chair_records_the_tie_decision_and_the_notice_starts_from_it(sessions, settings, clock):
    a, b, c, d, e = _deadlock(sessions, settings, clock)
    with sessions() as s:
        tie = voting.tie_data(s, settings)
        assert tie["seats"] == 2 and [t["application_id"] for t in tie["tied"]] == [b, c, d]
    clock.advance(days=2)
    with sessions.begin() as s:
        voting.decide_tie(s, settings, actor="weiyuan1", now=clock(), refs=["SG2018-004", "SG2018-002"],
                          reason=REASON)
    with sessions.begin() as s:
        ballot = voting.latest_round(s, settings)
        assert ballot.outcome == "decided" and ballot.decision["winners"] == [f"app-{d}", f"app-{b}"]
        assert ballot.result["runoff"]["seats"] == 2                  # the counted result is kept as it was
        assert voting.proposed_winners(s, settings) == [a, d, b]     # counted first, then the committee's order
        [entry] = audit.entries(s, action="committee.tie_decision")
        assert entry.actor == "weiyuan1" and entry.details["chosen"] == [d, b] and entry.details["reason"] == REASON
        assert entry.details["tied"] == [b, c, d]
        told = s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "vote.tie_decided")).all()
        assert sorted(told) == ["mishu", *MEMBERS]                   # every member and the secretariat
        rep = voting.report(s, settings)
        assert rep["outcome"] == "decided" and [w["application_id"] for w in rep["winners"]] == [a, d, b]
        assert rep["decision"]["names"] == ["企业丁", "企业乙"]
        assert [r.ok for r in voting.verify(s, settings)] == [True]
        with pytest.raises(InvalidInput) as err:                     # decided once
            voting.decide_tie(s, settings, actor="weiyuan1", now=clock(), refs=["SG2018-003", "SG2018-002"],
                              reason=REASON)
        assert err.value.code == "vote_tie_not_deadlocked"
        with pytest.raises(AlreadyDone):
            voting.open_ballot(s, settings, actor="mishu", now=clock(),
                               candidates=[voting.CandidateInfo(x, str(x)) for x in (a, b, c, d)])
        pub = publicity.start_publicity(s, settings, actor="mishu", now=clock())
        assert pub.winners == [a, d, b] and pub.reserve == [c, e]


def test_a_runoff_tied_again_is_decided_by_the_committee(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
    a, b, c, d, e = [x.application_id for x in cands]
    six = MEMBERS[:6]
    vote_all(sessions, settings, clock, {m: [a, b, c] if i % 2 else [a, b, d] for i, m in enumerate(six)})
    vote_all(sessions, settings, clock, {"weiyuan7": [a, b, e]})
    with sessions.begin() as s:
        assert voting.close_ballot(s, settings, actor="mishu", now=clock()).outcome == "runoff_needed"
        with pytest.raises(InvalidInput) as err:                  # a runoff is under way: nothing to decide
            voting.decide_tie(s, settings, actor="weiyuan1", now=clock(), refs=["SG2018-003"], reason=REASON)
        assert err.value.code == "vote_tie_not_deadlocked"
    vote_all(sessions, settings, clock, {m: [c] if i % 2 else [d] for i, m in enumerate(six)})
    clock.advance(hours=49)
    with sessions.begin() as s:
        [out] = voting.close_due(s, settings, now=clock())
        assert out.outcome == "deadlocked"
        voting.decide_tie(s, settings, actor="weiyuan1", now=clock(), refs=["SG2018-003"], reason=REASON)
    with sessions() as s:
        assert voting.proposed_winners(s, settings) == [a, b, c]
        assert voting.report(s, settings)["rounds"][-1]["outcome"] == "decided"


# -- a replacement vote for an emptied place ------------------------------------------------------------

@pytest.fixture
def referred(settings, sessions):
    """The notice of ids[:3] (reserve ids[3:]), a complaint against ids[1] upheld and its place referred."""
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
        c = lodge(s, settings, START + dt.timedelta(days=1), choice="2")
        publicity.conclude(s, settings, actor="mishu1", now=START + dt.timedelta(days=3), number=c.number,
                           upheld=True, findings="核实存在未申报的重大事故。", reason="不符合申报条件", outcome="remove")
    return {"ids": ids, "number": c.number}


ELECTORS = ["weiyuan1", "weiyuan2", "zhuren"]   # the committee of publicity_fixtures


def _decide_vote(sessions, settings, clock, number, now, **kw):
    clock.set(now)
    with sessions.begin() as s:
        return places.decide(s, settings, actor="zhuren", now=now, complaint_number=number, decision="vote",
                             reason=REASON, **kw).ballot_id


def test_the_committee_fills_the_place_by_a_new_vote_and_the_winner_gets_its_own_notice(
        settings, sessions, clock, referred):
    ids, number = referred["ids"], referred["number"]
    with sessions.begin() as s:
        with pytest.raises(NotAllowed):                            # the secretariat does not decide
            places.decide(s, settings, actor="mishu1", now=START, complaint_number=number, decision="vote",
                          reason=REASON)
        shown = places.check_decidable(s, settings, number, "vote", REASON)
        assert [c["number"] for c in shown["candidates"]] == ["SG2018-004", "SG2018-005"]
    decided_at = START + dt.timedelta(days=4)
    bid = _decide_vote(sessions, settings, clock, number, decided_at)
    with sessions() as s:
        ballot = s.get(Ballot, bid)
        assert ballot.purpose == "replacement" and ballot.seats == 1 and ballot.status == "open"
        assert [c["application_id"] for c in ballot.candidates] == ids[3:]
        assert ballot.context["complaint"] == number and ballot.context["position"] == 2
        assert ballot.closes_at == decided_at + dt.timedelta(hours=48)      # the 议事规则's 决选时长 (config 48)
        row = places.find(s, settings, number)
        assert row.status == "voting" and row.ballot_id == bid
        cards = s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "vote.ballot")).all()
        assert sorted(cards) == ELECTORS
        assert {p["required"] for p in [voting.card_data(ballot, t) for t in voting.electors(s, bid)]} == {1}
        [entry] = audit.entries(s, action="committee.place_decision")
        assert entry.details["decision"] == "vote" and entry.details["ballot"] == bid
        with pytest.raises(AlreadyDone):                                  # one decision at a time
            places.decide(s, settings, actor="zhuren", now=decided_at, complaint_number=number,
                          decision="replace", reason=REASON)
        with pytest.raises(DomainError) as err:                           # the report waits for the vote
            publicity.send_report(s, settings, actor="mishu1", now=START + dt.timedelta(days=30))
        assert err.value.code == "places_pending"
        assert publicity.current(s, settings).winners == [ids[0], ids[2]]
    # Secret ballots: 企业伍 (ranked after 企业肆) wins 2 of 3.
    for member, app in zip(ELECTORS, [ids[4], ids[4], ids[3]]):
        assert cast(sessions, settings, clock, member, [app]).status == "recorded"
    with sessions.begin() as s:
        with pytest.raises(InvalidInput):                                 # a sealed paper cannot be read before
            voting.check_tie_decidable(s, settings, ["SG2018-004"], REASON)
        out = voting.close_ballot(s, settings, actor="mishu1", now=decided_at + dt.timedelta(hours=1))
        assert out.outcome == "decided"
        assert places.find(s, settings, number).status == "voting"       # until settled
        [row] = places.settle_votes(s, settings, now=decided_at + dt.timedelta(hours=1))
        assert row.status == "replace" and row.replacement_id == ids[4]
        assert places.settle_votes(s, settings, now=decided_at + dt.timedelta(hours=2)) == []   # idempotent
        assert publicity.current(s, settings).winners == [ids[0], ids[4], ids[2]]
        assert row.start == decided_at + dt.timedelta(hours=1) and row.last_day == "2019-02-14"
        assert s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "publicity.replacement")) \
            .all() == ["qiye5"]
        entries = audit.entries(s, action="committee.place_decision")
        assert entries[-1].details["by_vote"] is True and entries[-1].details["replacement"] == ids[4]
        # The award vote is still the one published; the replacement vote is its own series, marked.
        assert voting.proposed_winners(s, settings) == ids[:3]
        reps = voting.reports(s, settings)
        assert [r["purpose"] for r in reps] == ["award", "replacement"]
        assert [w["application_id"] for w in reps[1]["winners"]] == [ids[4]]
        recounts = voting.verify(s, settings)     # the fixture's award vote has no papers; the replacement's count
        assert [r.purpose for r in recounts] == ["award", "replacement"] and recounts[1].ok
        assert publicity.targets(s, settings, now=START + dt.timedelta(days=12)) == [ids[4]]


def test_a_replacement_vote_by_the_sweep_and_a_single_candidate_confirmed_or_not(settings, sessions, clock, referred):
    ids, number = referred["ids"], referred["number"]
    with sessions.begin() as s:                      # 企业肆 already took another place: one candidate left
        publicity.current(s, settings).removed = [*publicity.current(s, settings).removed, ids[3]]
    decided_at = START + dt.timedelta(days=4)
    bid = _decide_vote(sessions, settings, clock, number, decided_at,
                       closes_at=decided_at + dt.timedelta(hours=24))
    with sessions() as s:
        ballot = s.get(Ballot, bid)
        assert [c["application_id"] for c in ballot.candidates] == [ids[4]]    # 同意/不同意
    with sessions() as s:
        tc = voting.card_data(ballot, voting.electors(s, bid)[0])
    assert tc["confirm"] is True
    with sessions.begin() as s:
        for m in ELECTORS:
            part = [p for p in voting.electors(s, bid) if p.member == m][0]
            voting.cast_ballot(s, settings, actor=m, now=clock(), ballot_id=bid, task_id=part.task_id,
                               selected={voting.question_key(bid): [f"no-{ids[4]}"]})
    clock.advance(hours=25)
    with sessions.begin() as s:
        [out] = voting.close_due(s, settings, now=clock())
        assert out.outcome == "decided"
        [row] = places.settle_votes(s, settings, now=clock())
        assert row.status == "vacant" and row.replacement_id is None
        assert publicity.current(s, settings).winners == [ids[0], ids[2]]


def test_no_candidates_left_or_a_round_open_refuse_the_vote(settings, sessions, clock, referred):
    ids, number = referred["ids"], referred["number"]
    with sessions.begin() as s:
        publicity.current(s, settings).removed = [*publicity.current(s, settings).removed, ids[3], ids[4]]
        with pytest.raises(InvalidInput) as err:
            places.decide(s, settings, actor="zhuren", now=START, complaint_number=number, decision="vote",
                          reason=REASON)
        assert err.value.code == "complaint_no_reserve"
        assert places.find(s, settings, number).status == "pending"
        assert s.scalar(select(Ballot).where(Ballot.purpose == "replacement")) is None


def test_a_replacement_vote_without_quorum_can_be_decided_again(settings, sessions, clock, referred):
    ids, number = referred["ids"], referred["number"]
    decided_at = START + dt.timedelta(days=4)
    bid = _decide_vote(sessions, settings, clock, number, decided_at)
    clock.set(decided_at + dt.timedelta(hours=49))
    with sessions.begin() as s:
        [out] = voting.close_due(s, settings, now=clock())
        assert out.outcome == "no_quorum"
        assert places.settle_votes(s, settings, now=clock()) == []
        row = places.decide(s, settings, actor="zhuren", now=clock(), complaint_number=number, decision="replace",
                            reason="第三次会议决定由下一名递补")
        assert row.status == "replace" and row.replacement_id == ids[3] and row.ballot_id == bid


def test_a_deadlocked_replacement_vote_is_decided_by_the_chair_and_fills_the_place(
        settings, sessions, clock, referred):
    ids, number = referred["ids"], referred["number"]
    with sessions.begin() as s:
        committee.record_meeting(s, settings, actor="mishu1", now=START, held_on=dt.date(2018, 9, 10),
                                 attendees=["委员甲"], decisions="决选=无", runoff=False)
    decided_at = START + dt.timedelta(days=4)
    _decide_vote(sessions, settings, clock, number, decided_at)
    for member, app in zip(["weiyuan1", "weiyuan2"], [ids[3], ids[4]]):
        assert cast(sessions, settings, clock, member, [app]).status == "recorded"
    clock.advance(hours=49)
    with sessions.begin() as s:
        [out] = voting.close_due(s, settings, now=clock())
        assert out.outcome == "deadlocked"
        assert places.settle_votes(s, settings, now=clock()) == []
        voting.decide_tie(s, settings, actor="zhuren", now=clock(), refs=["SG2018-005"], reason=REASON)
        [row] = places.settle_votes(s, settings, now=clock())
        assert row.replacement_id == ids[4]
        assert voting.proposed_winners(s, settings) == ids[:3]        # the award vote is untouched


def _not_chosen(s):
    return sorted((m.recipient, m.data["number"]) for m in
                  s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "vote.not_chosen")))


def test_every_finalist_not_chosen_hears_it_when_the_vote_is_decided(sessions, settings, clock):
    """Issue 23.13: at the close of a decided vote, each candidate not chosen is told (no votes, no scores)."""
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
    a, b, c, d, e = [x.application_id for x in cands]
    vote_all(sessions, settings, clock, {m: [a, b, c] for m in MEMBERS})
    with sessions.begin() as s:
        assert voting.close_ballot(s, settings, actor="mishu", now=clock()).outcome == "decided"
        assert _not_chosen(s) == [("qiye3", "SG2018-004"), ("qiye4", "SG2018-005")]
        [m] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "vote.not_chosen",
                                                    OutboxMessage.recipient == "qiye3")).all()
        assert set(m.data) == {"number", "enterprise", "winners"}       # nobody's votes or scores


def test_the_finalists_not_chosen_hear_it_when_the_committee_decides_a_tie(sessions, settings, clock):
    a, b, c, d, e = _deadlock(sessions, settings, clock)
    with sessions() as s:
        assert _not_chosen(s) == []                 # deadlocked: nothing decided yet, nobody told
    with sessions.begin() as s:
        voting.decide_tie(s, settings, actor="weiyuan1", now=clock(), refs=["SG2018-004", "SG2018-002"],
                          reason=REASON)
        assert _not_chosen(s) == [("qiye2", "SG2018-003"), ("qiye4", "SG2018-005")]


def test_the_rules_set_the_votes_a_winner_needs_and_places_left_empty(sessions, settings, clock):
    """Issue 23.14: a winner needs what the 议事规则 say; with 不足=空缺 the places nobody won stay empty."""
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        assert committee.effective(s, settings).majority == "1/2"        # the configured [decision] default
        with pytest.raises(InvalidInput) as err:
            record(s, settings, clock(), majority="3/2")
        assert err.value.code == "committee_bad_majority"
        record(s, settings, clock(), majority="2/3", shortfall="vacant")   # more than 2/3 of 7: at least 5
        voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
    a, b, c, d, e = [x.application_id for x in cands]
    vote_all(sessions, settings, clock, {"weiyuan1": [a, b, c], "weiyuan2": [a, b, c], "weiyuan3": [a, b, d],
                                         "weiyuan4": [a, b, d], "weiyuan5": [a, c, e], "weiyuan6": [a, d, e],
                                         "weiyuan7": [b, c, e]})        # a 6, b 5, c 4, d 3, e 3
    with sessions.begin() as s:
        assert voting.close_ballot(s, settings, actor="mishu", now=clock()).outcome == "decided"
        assert voting.proposed_winners(s, settings) == [a, b]           # c's 4 of 7 is not enough
        rep = voting.report(s, settings)
        assert rep["rounds"][0]["needed"] == 5 and rep["rounds"][0]["majority"] == "2/3"
        assert [r.ok for r in voting.verify(s, settings)] == [True]      # re-counted by the recorded rule
        assert _not_chosen(s) == [("qiye2", "SG2018-003"), ("qiye3", "SG2018-004"), ("qiye4", "SG2018-005")]
