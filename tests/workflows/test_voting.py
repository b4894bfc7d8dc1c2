"""The committee vote services: exact counts, conflicts, duplicates, quorum, runoffs, re-count, secrecy."""
from __future__ import annotations

import datetime as dt

import pytest

from workflows.core.errors import NotAllowed
from sqlalchemy import delete, func, inspect, select

from workflows.core import audit, people, stages
from workflows import committee, voting
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.apply.models import Application
from workflows.core.models import AuditEntry, CardTask, OutboxMessage
from workflows.voting import sealing
from workflows.voting.models import Ballot, Choice, Participation, SealedPaper

ROSTER = """userid,name,role,organization,region
mishu,秘书处·李敏,secretariat,市监局,市直
weiyuan1,副市长·吴海,committee_chair,市政府,市直
weiyuan2,委员·郑涛,committee,发改局,市直
weiyuan3,委员·冯静,committee,工信局,市直
weiyuan4,委员·陈刚,committee,财政局,市直
weiyuan5,委员·褚红,committee,科技局,市直
weiyuan6,委员·卫东,committee,商务局,市直
weiyuan7,委员·蒋雪,committee,市监局,市直
zhuanjia1,专家·王建国,expert,省质协,广州市
"""
MEMBERS = [f"weiyuan{i}" for i in range(1, 8)]
VOTE_TIME = dt.datetime(2019, 1, 22, 2, 0, tzinfo=dt.timezone.utc)


def seed(session, settings, now, n=5, rules=True):
    """Roster, n accepted applications, the 议事规则 recorded (unless `rules` is false: the configured defaults
    adopted as they are), the vote stage open; returns candidate infos."""
    people.import_roster(session, ROSTER, actor="system", now=now)
    if rules:
        committee.record_meeting(session, settings, actor="system", now=now, held_on=dt.date(2018, 9, 10),
                                 attendees=["吴海", "郑涛"], decisions="审议通过评审委员会议事规则。",
                                 minutes_ref="评审委员会第1次会议纪要")
    stages.open_stage(session, settings, "vote", actor="system", now=now)
    out = []
    for i in range(n):
        app = Application(edition=settings.award.edition_key, number=f"SG2018-{i + 1:03d}", applicant=f"qiye{i}",
                          status="accepted", enterprise_name=f"企业{'甲乙丙丁戊己'[i]}", created_at=now, updated_at=now)
        session.add(app)
        session.flush()
        out.append(voting.CandidateInfo(app.id, app.enterprise_name, 800.0 - 10 * i, 780.0 - 10 * i, 813.33 - 10 * i))
    return out


@pytest.fixture
def vote(sessions, settings, clock):
    """A session with an open ballot on five candidates."""
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        ballot = voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        return {"ballot_id": ballot.id, "apps": [c.application_id for c in cands]}


def stored(s, settings, ballot_id=None):
    """Every paper of a round (sealed ones opened with the round's key), as sorted application ids."""
    bid = ballot_id or voting.latest_round(s, settings).id
    return sorted(sorted(p) for p in sealing.all_papers(s, settings, bid))


def cast(sessions, settings, clock, member, apps, ballot_id=None, **kw):
    """Submit a member's card with these application ids; return the outcome."""
    with sessions.begin() as s:
        bid = ballot_id or voting.open_round(s, settings).id
        part = s.scalar(select(Participation).where(Participation.ballot_id == bid, Participation.member == member))
        task = kw.pop("task_id", part.task_id if part else "nope")
        return voting.cast_ballot(s, settings, actor=member, now=clock(), ballot_id=bid, task_id=task,
                                  selected={voting.question_key(bid): [voting.option_id(a) for a in apps]},
                                  response_code=kw.pop("response_code", "RC"), **kw)


def test_open_sends_every_member_a_card_with_all_candidates(sessions, settings, vote):
    with sessions() as s:
        cards = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "vote.ballot")))
        assert sorted(c.recipient for c in cards) == MEMBERS
        data = cards[0].data
        assert [c["option_id"] for c in data["candidates"]] == [voting.option_id(a) for a in vote["apps"]]
        assert data["required"] == 3 and data["submit_key"] == f"vote:submit:{vote['ballot_id']}"
        assert data["closes_at"] == stages.deadline(s, settings, "vote").isoformat()
        assert [e.action for e in audit.entries(s, subject=f"ballot:{vote['ballot_id']}")] == ["vote.open"]


def test_open_refuses_wrong_candidate_counts_and_a_second_open_ballot(sessions, settings, clock, vote):
    with sessions() as s:
        cands = [voting.CandidateInfo(a, "x") for a in vote["apps"]]
        with pytest.raises(AlreadyDone):
            voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        with pytest.raises(InvalidInput) as e:
            voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=[])
        assert e.value.code == "vote_candidates_count"


@pytest.mark.parametrize("picks, code", [(1, "wrong_count"), (2, "wrong_count"), (4, "wrong_count"), (0, "empty")])
def test_exactly_the_required_number_must_be_chosen(sessions, settings, clock, vote, picks, code):
    with sessions() as s:
        old_task = s.scalar(select(Participation.task_id).where(Participation.member == "weiyuan2"))
    out = cast(sessions, settings, clock, "weiyuan2", vote["apps"][:picks])
    assert out.status == "invalid" and out.data["code"] == code
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Choice)) == 0
        assert s.scalar(select(func.count()).select_from(SealedPaper)) == 0
        part = s.scalar(select(Participation).where(Participation.member == "weiyuan2"))
        assert part.voted_at is None and part.task_id != old_task          # a fresh card replaces the old one
        assert s.get(CardTask, old_task).status == "closed"
        refusal = audit.entries(s, action="vote.refused")[-1]
        assert refusal.details["reason"] == "invalid" and refusal.details["code"] == code
    # The fresh card works.
    assert cast(sessions, settings, clock, "weiyuan2", vote["apps"][:3]).status == "recorded"


def test_options_from_outside_the_ballot_are_refused(sessions, settings, clock, vote):
    out = cast(sessions, settings, clock, "weiyuan3", [vote["apps"][0], vote["apps"][1], 9999])
    assert out.status == "invalid" and out.data["code"] == "unknown_option"


def test_conflict_excludes_candidate_and_is_recorded(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        result = voting.declare_conflict(s, settings, actor="mishu", now=clock(), member="weiyuan4",
                                         application="SG2018-001")
        assert result["reissued"] is False
        ballot = voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        part = s.scalar(select(Participation).where(Participation.member == "weiyuan4"))
        assert part.offered == [voting.option_id(c.application_id) for c in cands[1:]] and part.excluded == [cands[0].application_id]
        [entry] = audit.entries(s, action="vote.conflict_excluded")
        assert entry.details["member"] == "weiyuan4" and entry.subject == f"ballot:{ballot.id}"
    apps = [c.application_id for c in cands]
    assert cast(sessions, settings, clock, "weiyuan4", apps[:3]).data["code"] == "unknown_option"
    assert cast(sessions, settings, clock, "weiyuan4", apps[1:4]).status == "recorded"


def test_conflict_declared_during_an_open_ballot_reissues_the_card(sessions, settings, clock, vote):
    with sessions.begin() as s:
        old = s.scalar(select(Participation.task_id).where(Participation.member == "weiyuan5"))
        result = voting.declare_conflict(s, settings, actor="mishu", now=clock(), member="weiyuan5",
                                         application=str(vote["apps"][2]))
        assert result["reissued"] is True
        part = s.scalar(select(Participation).where(Participation.member == "weiyuan5"))
        assert part.task_id != old and voting.option_id(vote["apps"][2]) not in part.offered
        with pytest.raises(AlreadyDone):
            voting.declare_conflict(s, settings, actor="mishu", now=clock(), member="weiyuan5",
                                    application=str(vote["apps"][2]))


def test_conflict_policy_allow_offers_everything(sessions, settings, clock):
    allow = settings.with_overrides(award={"rules": {**settings.award.rules.model_dump(), "vote_conflict_policy": "allow"}})
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, allow, clock())
        voting.declare_conflict(s, allow, actor="mishu", now=clock(), member="weiyuan4", application="SG2018-001")
        voting.open_ballot(s, allow, actor="mishu", now=clock(), candidates=cands)
        part = s.scalar(select(Participation).where(Participation.member == "weiyuan4"))
        assert len(part.offered) == 5 and part.excluded == []


def test_second_ballot_is_refused_and_changes_nothing(sessions, settings, clock, vote):
    apps = vote["apps"]
    assert cast(sessions, settings, clock, "weiyuan2", apps[:3]).status == "recorded"
    out = cast(sessions, settings, clock, "weiyuan2", apps[2:5])
    assert out.status == "already_voted"
    with sessions() as s:
        assert stored(s, settings) == [sorted(apps[:3])]


def test_ballot_change_replaces_the_previous_paper_when_allowed(sessions, settings, clock):
    allow = settings.with_overrides(award={"rules": {**settings.award.rules.model_dump(), "allow_ballot_change": True}})
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, allow, clock())
        voting.open_ballot(s, allow, actor="mishu", now=clock(), candidates=cands)
    apps = [c.application_id for c in cands]
    assert cast(sessions, allow, clock, "weiyuan2", apps[:3]).status == "recorded"
    assert cast(sessions, allow, clock, "weiyuan3", apps[:3]).status == "recorded"
    # The voted card is closed; a change needs a fresh card (chat: 投票).
    assert cast(sessions, allow, clock, "weiyuan2", apps[2:5]).status == "stale_card"
    with sessions.begin() as s:
        assert voting.reissue_card(s, allow, actor="weiyuan2", now=clock()) == [voting.open_round(s, allow).id]
    assert cast(sessions, allow, clock, "weiyuan2", apps[2:5]).status == "replaced"
    with sessions() as s:
        assert stored(s, allow) == [sorted(apps[:3]), sorted(apps[2:5])]     # replaced in place: still two papers
        assert s.scalar(select(func.count()).select_from(SealedPaper)) == 2
        assert s.scalar(select(func.count()).select_from(Choice)) == 0     # nothing in plaintext while open
        assert [e.actor for e in audit.entries(s, action="vote.replaced")] == ["weiyuan2"]


def test_late_ballot_and_non_member_are_refused_and_audited(sessions, settings, clock, vote):
    with sessions() as s:
        task = s.scalar(select(Participation.task_id).where(Participation.member == "weiyuan2"))
    with pytest.raises(NotAllowed):  # not on the committee: the gate refuses before the ballot is looked at
        cast(sessions, settings, clock, "zhuanjia1", vote["apps"][:3], ballot_id=vote["ballot_id"], task_id=task)
    out = cast(sessions, settings, clock, "weiyuan3", vote["apps"][:3], task_id=task)  # someone else's card
    assert out.status == "not_member"
    with sessions() as s:
        clock.set(stages.deadline(s, settings, "vote") + dt.timedelta(minutes=1))
    out = cast(sessions, settings, clock, "weiyuan2", vote["apps"][:3], ballot_id=vote["ballot_id"])
    assert out.status == "closed"
    with sessions() as s:
        reasons = [(e.actor, e.details["reason"]) for e in audit.entries(s, action="vote.refused")]
        assert reasons == [("weiyuan3", "not_member"), ("weiyuan2", "closed")]
        assert s.scalar(select(func.count()).select_from(Choice)) == 0


def vote_all(sessions, settings, clock, plan):
    """plan: {member: [application ids]}"""
    for member, apps in plan.items():
        assert cast(sessions, settings, clock, member, apps).status == "recorded", member


def test_clear_result_gives_three_proposed_winners(sessions, settings, clock, vote):
    a, b, c, d, e = vote["apps"]
    plan = {"weiyuan1": [a, b, c], "weiyuan2": [a, b, c], "weiyuan3": [a, b, c], "weiyuan4": [a, b, c],
            "weiyuan5": [a, b, d], "weiyuan6": [a, b, d], "weiyuan7": [a, d, e]}
    with sessions() as s:
        assert voting.proposed_winners(s, settings) == []
    vote_all(sessions, settings, clock, plan)
    with sessions.begin() as s:
        out = voting.close_ballot(s, settings, actor="mishu", now=clock())  # everyone voted: early close allowed
        assert out.outcome == "decided" and (out.voted, out.members) == (7, 7)
    with sessions() as s:
        assert voting.proposed_winners(s, settings) == [a, b, c]
        rep = voting.report(s, settings)
        assert [c["votes"] for c in rep["rounds"][0]["candidates"]] == [7, 6, 4, 3, 1]
        assert [w["enterprise_name"] for w in rep["winners"]] == ["企业甲", "企业乙", "企业丙"]
        results = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "vote.result"))
        assert sorted(r.recipient for r in results) == ["mishu", *MEMBERS]   # every member hears it
        assert [r.ok for r in voting.verify(s, settings)] == [True]
        actions = [e.action for e in audit.entries(s, subject=f"ballot:{vote['ballot_id']}")]
        assert actions == ["vote.open"] + ["vote.cast"] * 7 + ["vote.close", "vote.tally"]


def test_early_close_refused_until_everyone_voted(sessions, settings, clock, vote):
    cast(sessions, settings, clock, "weiyuan1", vote["apps"][:3])
    with sessions() as s:
        with pytest.raises(InvalidInput) as e:
            voting.close_ballot(s, settings, actor="mishu", now=clock())
        assert e.value.code == "vote_not_all_voted" and e.value.data["voted"] == 1


def test_results_are_sealed_until_close(sessions, settings, clock, vote):
    cast(sessions, settings, clock, "weiyuan1", vote["apps"][:3])
    with sessions() as s:
        rep = voting.report(s, settings)
        assert rep["rounds"][0]["sealed"] and all(c["votes"] is None for c in rep["rounds"][0]["candidates"])
        assert rep["rounds"][0]["voted"] == 1 and rep["winners"] == []


def test_no_quorum_is_reported_then_extended_and_completed(sessions, settings, clock, vote):
    a, b, c, d, e = vote["apps"]
    vote_all(sessions, settings, clock, {m: [a, b, c] for m in MEMBERS[:4]})  # 4 of 7 < 2/3
    with sessions() as s:
        assert [n.member for n in voting.non_voters(s, settings)] == MEMBERS[4:]
        deadline = stages.deadline(s, settings, "vote")
    clock.set(deadline + dt.timedelta(seconds=1))
    with sessions.begin() as s:
        [out] = voting.close_due(s, settings, now=clock())
        assert out.outcome == "no_quorum"
        assert voting.close_due(s, settings, now=clock()) == []            # the sweep is idempotent
        assert voting.proposed_winners(s, settings) == []
        assert voting.non_voters(s, settings) == []
    with sessions.begin() as s:
        voting.extend_ballot(s, settings, actor="mishu", now=clock(), closes_at=clock() + dt.timedelta(days=2))
        assert [n.member for n in voting.non_voters(s, settings)] == MEMBERS[4:]
        reissued = s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "vote.ballot",
                                                                    OutboxMessage.created_at == clock()))
        assert sorted(reissued) == MEMBERS[4:]
    vote_all(sessions, settings, clock, {"weiyuan5": [a, b, d], "weiyuan6": [a, b, d]})
    clock.advance(days=3)
    with sessions.begin() as s:
        [out] = voting.close_due(s, settings, now=clock())
        assert out.outcome == "decided" and out.voted == 6
        assert voting.proposed_winners(s, settings) == [a, b, c]


def test_rerun_after_no_quorum_is_a_new_ballot(sessions, settings, clock, vote):
    with sessions() as s:
        clock.set(stages.deadline(s, settings, "vote") - dt.timedelta(hours=1))
    with sessions.begin() as s:
        clock.advance(hours=2)
        stages.extend(s, settings, "vote", clock() + dt.timedelta(days=3), actor="mishu", now=clock())
        voting.close_due(s, settings, now=clock())
        cands = [voting.CandidateInfo(a, f"企业{a}") for a in vote["apps"]]
        again = voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        assert again.series_id == again.id != vote["ballot_id"]


def test_tie_at_the_last_seat_opens_a_runoff_which_resolves(sessions, settings, clock, vote):
    a, b, c, d, e = vote["apps"]
    plan = {"weiyuan1": [a, b, c], "weiyuan2": [a, b, c], "weiyuan3": [a, b, c],
            "weiyuan4": [a, b, d], "weiyuan5": [a, b, d], "weiyuan6": [a, b, d], "weiyuan7": [a, b, e]}
    vote_all(sessions, settings, clock, plan)
    with sessions.begin() as s:
        out = voting.close_ballot(s, settings, actor="mishu", now=clock())
        assert out.outcome == "runoff_needed" and out.runoff_ballot_id
        runoff = s.get(Ballot, out.runoff_ballot_id)
        # c and d tie at 3 of 7: neither has more than half (issue 23.14), so the runoff is among the rest.
        assert [c["application_id"] for c in runoff.candidates] == [c, d, e] and runoff.seats == 1
        assert runoff.round_no == 2 and runoff.series_id == vote["ballot_id"]
        assert runoff.closes_at == clock() + dt.timedelta(hours=settings.award.rules.runoff_hours)
        assert voting.proposed_winners(s, settings) == []
        cards = s.scalars(select(CardTask.recipient).where(CardTask.subject == f"ballot:{runoff.id}"))
        assert sorted(cards) == MEMBERS
    rid = out.runoff_ballot_id
    assert cast(sessions, settings, clock, "weiyuan1", [c, d]).data["code"] == "wrong_count"
    vote_all(sessions, settings, clock, {m: [d] if m in MEMBERS[:4] else [c] for m in MEMBERS})
    with sessions.begin() as s:
        out2 = voting.close_ballot(s, settings, actor="mishu", now=clock())
        assert (out2.ballot_id, out2.outcome) == (rid, "decided")
    with sessions() as s:
        assert voting.proposed_winners(s, settings) == [a, b, d]
        rep = voting.report(s, settings)
        assert [r["round_no"] for r in rep["rounds"]] == [1, 2]
        assert rep["rounds"][0]["runoff"] == {"candidates": ["企业丙", "企业丁", "企业戊"], "seats": 1, "shortfall": True}
        assert [r.ok for r in voting.verify(s, settings)] == [True, True]


def test_runoff_tied_again_is_deadlocked(sessions, settings, clock):
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
    vote_all(sessions, settings, clock, {m: [c] if i % 2 else [d] for i, m in enumerate(six)})
    clock.advance(hours=49)
    with sessions.begin() as s:
        [out] = voting.close_due(s, settings, now=clock())
        assert out.outcome == "deadlocked" and voting.proposed_winners(s, settings) == []
        assert voting.report(s, settings)["outcome"] == "deadlocked"


def test_recount_detects_tampered_papers(sessions, settings, clock, vote):
    vote_all(sessions, settings, clock, {m: vote["apps"][:3] for m in MEMBERS})
    with sessions.begin() as s:
        voting.close_ballot(s, settings, actor="mishu", now=clock())
    with sessions.begin() as s:
        paper = s.scalar(select(Choice.paper_id).limit(1))
        s.execute(delete(Choice).where(Choice.paper_id == paper))
    with sessions() as s:
        [recount] = voting.verify(s, settings)
        assert not recount.ok and {d.field for d in recount.differences} >= {"count", "ballots"}


def test_secrecy_no_path_from_member_to_choice(sessions, settings, clock, vote):
    vote_all(sessions, settings, clock, {m: vote["apps"][:3] for m in MEMBERS[:3]})
    cols = {c.name for c in inspect(Choice).columns}
    assert cols == {"paper_id", "application_id", "ballot_id"}                 # no member, no time, no serial
    assert {c.name for c in inspect(SealedPaper).columns} == {"ballot_id", "slot", "sealed"}
    assert {fk.column.table.name for fk in Choice.__table__.foreign_keys} == {"ballot"}
    assert "paper_mac" not in {c.name for c in inspect(Participation).columns}
    assert not any(fk.column.table.name in ("ballot_choice", "ballot_seal")
                   for fk in Participation.__table__.foreign_keys)
    with sessions() as s:
        parts = list(s.scalars(select(Participation).where(Participation.voted_at.is_not(None))))
        seals = list(s.scalars(select(SealedPaper)))
        assert len(parts) == 3 and len(seals) == 3
        for p in parts:
            assert all(seal.slot not in (p.receipt_hash or "") for seal in seals)
        cast_entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "vote.cast"))
        for entry in cast_entries:
            text = str(entry.details)
            assert not any(f"app-{a}" in text or str(a) in entry.details.values() for a in vote["apps"])


def test_voted_card_carries_the_choice_only_until_delivered(sessions, settings, clock, vote):
    cast(sessions, settings, clock, "weiyuan2", vote["apps"][:3])
    with sessions.begin() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "vote.voted"))
        assert row.recipient == "weiyuan2" and row.data["chosen"] == ["企业甲", "企业乙", "企业丙"]
        row.status = "sent"
        assert voting.scrub_receipts(s) == 1
    with sessions() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "vote.voted"))
        assert row.data == {"scrubbed": True} and row.payload == {"scrubbed": True}


def test_non_voters_lists_members_who_still_owe_a_ballot(sessions, settings, clock, vote):
    cast(sessions, settings, clock, "weiyuan3", vote["apps"][:3])
    with sessions() as s:
        rows = voting.non_voters(s, settings)
        assert [r.member for r in rows] == [m for m in MEMBERS if m != "weiyuan3"]
        assert {r.ballot_id for r in rows} == {vote["ballot_id"]}
        assert rows[0].closes_at == stages.deadline(s, settings, "vote")
        turnout = {t.member: t.voted_at for t in voting.turnout(s, vote["ballot_id"])}
        assert turnout["weiyuan3"] == clock() and turnout["weiyuan2"] is None
