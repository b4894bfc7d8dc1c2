"""Closing a round: quorum, tally, automatic runoff, the sealed result, re-count and proposed winners."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflows import committee
from workflows.core import access, audit, notices, people
from workflows.voting import confirmation, sealing, tally
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.voting.models import Ballot, Participation
from workflows.core.models import CardTask, OutboxMessage
from workflows.apply.models import Application
from workflows.core.settings import Settings
from workflows.voting.ballots import VOTED_CARD, application_of, option_id, send_ballot_card, start_round

SCHEDULER = "scheduler"
# Every member of the committee hears the result, and the secretariat.
RESULT_TO = ("secretariat", "committee", "committee_chair")


@dataclass(frozen=True)
class CloseOutcome:
    """What closing a round led to."""

    ballot_id: int
    outcome: str  # decided | runoff_needed | deadlocked | no_quorum
    voted: int
    members: int
    runoff_ballot_id: int | None = None
    round_no: int = 1


def _edition_ballots(settings: Settings):  # noqa: ANN202
    return select(Ballot).where(Ballot.edition == settings.award.edition_key)


def open_round(session: Session, settings: Settings) -> Ballot | None:
    """The round currently open, if any."""
    return session.scalar(_edition_ballots(settings).where(Ballot.status == "open").order_by(Ballot.id.desc()))


def latest_round(session: Session, settings: Settings) -> Ballot | None:
    """The most recently opened round of this edition."""
    return session.scalar(_edition_ballots(settings).order_by(Ballot.id.desc()).limit(1))


def electors(session: Session, ballot_id: int) -> list[Participation]:
    """The members who may vote in a round (recused members excluded)."""
    return list(session.scalars(select(Participation).where(Participation.ballot_id == ballot_id,
                                                            Participation.recused.is_(False))
                                .order_by(Participation.member)))


def papers(session: Session, ballot: Ballot, settings: Settings | None = None) -> list[list[str]]:
    """The stored anonymous ballot papers of a round, as option ids in candidate order.

    A round still holding sealed papers (open, or closed without quorum) needs `settings` to open them.
    """
    order = {c["application_id"]: i for i, c in enumerate(ballot.candidates)}
    # A confirmation round's 不同意 is stored negated (workflows.voting.confirmation).
    return [[confirmation.option_of(a) for a in sorted(apps, key=lambda a: (order[abs(a)], a < 0))]
            for apps in sealing.all_papers(session, settings, ballot.id)]


def count(ballot: Ballot, stored: list[list[str]], majority: str | None = None,
          shortfall: str | None = None) -> tally.TallyResult:
    """Count a round's papers: choosing among candidates, or confirming each (no more candidates than seats).
    The winning threshold and what follows a shortfall are the 议事规则's at the close (given), else the ones the
    round's recorded result says it was counted by (a re-count), else none (rounds counted before issue 23.14)."""
    if confirmation.is_confirmation(ballot.candidates, ballot.seats):
        return confirmation.count(stored, _options(ballot), ballot.seats)
    recorded = ballot.result or {}
    majority = majority if majority is not None else recorded.get("majority", "0")
    shortfall = shortfall if shortfall is not None else recorded.get("shortfall", "vacant")
    return tally.tally(stored, _options(ballot), ballot.seats, Fraction(majority), shortfall)


def _options(ballot: Ballot) -> list[str]:
    return [option_id(c["application_id"]) for c in ballot.candidates]


def _stored(result: dict[str, Any]) -> tally.TallyResult:
    """A recorded result read back as a TallyResult."""
    runoff = result.get("runoff")
    return tally.TallyResult(
        counts=dict(result["counts"]), ranking=tuple((n, v) for n, v in result["ranking"]),
        winners=tuple(result["winners"]),
        runoff=tally.Runoff(tuple(runoff["candidates"]), runoff["seats"]) if runoff else None,
        decided=result["decided"], seats=result["seats"], ballots=result["ballots"], needed=result.get("needed", 0))


def _as_json(res: tally.TallyResult) -> dict[str, Any]:
    return {"counts": res.counts, "ranking": [list(r) for r in res.ranking], "winners": list(res.winners),
            "runoff": {"candidates": list(res.runoff.candidates), "seats": res.runoff.seats} if res.runoff else None,
            "decided": res.decided, "seats": res.seats, "ballots": res.ballots, "needed": res.needed}


@access.guarded("vote.manage")
def close_ballot(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                 ballot_id: int | None = None) -> CloseOutcome:
    """Close the open round early (secretariat), which is allowed once every elector has voted."""
    ballot = _lock(session, settings, ballot_id)
    parts = electors(session, ballot.id)
    voted = sum(1 for p in parts if p.voted_at is not None)
    if now < ballot.closes_at and voted < len(parts):
        raise InvalidInput("vote_not_all_voted", voted=voted, members=len(parts),
                           closes_at=ballot.closes_at.isoformat())
    return _close(session, settings, ballot, actor=actor, now=now)


def _lock(session: Session, settings: Settings, ballot_id: int | None) -> Ballot:
    q = _edition_ballots(settings)
    q = q.where(Ballot.id == ballot_id) if ballot_id is not None else q.where(Ballot.status == "open")
    ballot = session.scalar(q.order_by(Ballot.id.desc()).limit(1).with_for_update())
    if ballot is None:
        raise NotFound("vote_not_found")
    if ballot.status != "open":
        raise AlreadyDone(what="本轮投票已结束")
    return ballot


def close_due(session: Session, settings: Settings, *, now: dt.datetime) -> list[CloseOutcome]:
    """Close every round whose closing time has passed (the scheduler's sweep); idempotent."""
    due = list(session.scalars(_edition_ballots(settings).where(Ballot.status == "open", Ballot.closes_at <= now)
                               .order_by(Ballot.id).with_for_update()))
    outcomes = [_close(session, settings, b, actor=SCHEDULER, now=now) for b in due]
    scrub_receipts(session)
    sealing.sweep_keys(session, settings)  # a key a crash left behind after its round closed
    return outcomes


def _close(session: Session, settings: Settings, ballot: Ballot, *, actor: str, now: dt.datetime) -> CloseOutcome:
    rules = committee.effective(session, settings)   # the 议事规则 recorded by the committee, else the config
    parts = electors(session, ballot.id)
    voted = sum(1 for p in parts if p.voted_at is not None)
    q = rules.quorum_fraction
    quorate = bool(parts) and tally.quorum_met(voted, len(parts), q.numerator, q.denominator)
    # Without quorum nothing is counted: counts recorded now and again after an extension would give
    # away, by their difference, what the members who voted in between chose.
    result = (count(ballot, papers(session, ballot, settings), rules.majority, rules.shortfall)
              if quorate else None)
    ballot.result = {**(_as_json(result) if result else {}), "members": len(parts), "voted": voted,
                     "quorum": rules.quorum, "quorum_met": quorate, "majority": rules.majority,
                     "shortfall": rules.shortfall}
    ballot.closed_at, ballot.closed_by = now, actor
    # Open cards stop counting; "已投票" updates not delivered yet are given up (they show a member's choice).
    _cancel_voted_cards(session, ballot.id)
    session.execute(update(CardTask).where(CardTask.subject == f"ballot:{ballot.id}", CardTask.status == "open")
                    .values(status="closed", closed_at=now))
    audit.record(session, actor=actor, action="vote.close", subject=f"ballot:{ballot.id}", now=now,
                 voted=voted, members=len(parts), quorum=rules.quorum, quorum_met=quorate)
    runoff_id = None
    if not quorate:
        ballot.status, ballot.outcome = "no_quorum", "no_quorum"
    else:
        ballot.status = "closed"
        # For good: the papers are opened, shuffled into one transaction, and the key shredded after commit.
        sealing.unseal_round(session, settings, ballot)
        rounds = [b for b in series(session, ballot.series_id) if b.status == "closed"]
        resolution = tally.resolve_rounds([_stored(b.result) for b in rounds])
        ballot.outcome = resolution.outcome.value
        if resolution.outcome is tally.Outcome.RUNOFF_NEEDED and not rules.runoff:
            ballot.outcome = tally.Outcome.DEADLOCKED.value   # the 议事规则 say the committee decides a tie itself
        if ballot.outcome == tally.Outcome.RUNOFF_NEEDED.value:
            tied = set(resolution.pending.candidates)
            runoff = start_round(session, settings, actor=actor, now=now,
                                 candidates=[c for c in ballot.candidates if option_id(c["application_id"]) in tied],
                                 seats=resolution.pending.seats,
                                 closes_at=now + dt.timedelta(hours=rules.runoff_hours), runoff_of=ballot)
            runoff_id = runoff.id
    audit.record(session, actor=actor, action="vote.tally", subject=f"ballot:{ballot.id}", now=now,
                 counts=result.counts if result else None, winners=list(result.winners) if result else [],
                 outcome=ballot.outcome, runoff=ballot.result.get("runoff"), runoff_ballot=runoff_id)
    recipients = [p.userid for p in people.with_role(session, *RESULT_TO)]
    notices.notify(session, sorted(set(recipients)), "vote.result", now=now,
                   **report(session, settings, ballot.series_id))
    if ballot.outcome == tally.Outcome.DECIDED.value:   # every finalist not chosen hears it now (issue 23.13)
        tell_candidates(session, settings, ballot.series_id, now=now)
    scrub_receipts(session)
    return CloseOutcome(ballot.id, ballot.outcome, voted, len(parts), runoff_id, ballot.round_no)


def series(session: Session, series_id: int) -> list[Ballot]:
    """All rounds of one vote (first round and runoffs), in order."""
    return list(session.scalars(select(Ballot).where(Ballot.series_id == series_id).order_by(Ballot.round_no)))


@access.guarded("vote.manage")
def extend_ballot(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                  closes_at: dt.datetime) -> Ballot:
    """Give the open round, or the last one that closed without quorum, a later closing time."""
    ballot = latest_round(session, settings)
    if ballot is None or ballot.status not in ("open", "no_quorum"):
        raise InvalidInput("vote_not_extendable")
    if closes_at.tzinfo is None or closes_at <= max(now, ballot.closes_at if ballot.status == "open" else now):
        raise InvalidInput("vote_closes_at_past", closes_at=closes_at.isoformat())
    reopened = ballot.status == "no_quorum"
    old = ballot.closes_at
    ballot.closes_at = closes_at
    if reopened:
        ballot.status, ballot.outcome, ballot.result, ballot.closed_at, ballot.closed_by = "open", None, None, None, None
    audit.record(session, actor=actor, action="vote.extend", subject=f"ballot:{ballot.id}", now=now,
                 old=old, new=closes_at, reopened=reopened)
    for part in electors(session, ballot.id):
        if part.voted_at is not None:
            continue
        if reopened:
            send_ballot_card(session, settings, ballot, part, now=now)
        notices.notify(session, part.member, "vote.extended", now=now, ballot_id=ballot.id,
                       round_no=ballot.round_no, closes_at=closes_at.isoformat())
    return ballot


SCRUBBED = {"scrubbed": True}
FINISHED = ("sent", "dead", "cancelled")


def scrub_receipts(session: Session) -> int:
    """Blank "已投票" card updates in every final state (sent, dead, cancelled): they carried a member's choice.

    The sender already blanks them as it finishes them; this catches anything left (rows older than
    that, or a crash in between).
    """
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == VOTED_CARD,
                                                       OutboxMessage.status.in_(FINISHED)))
    scrubbed = 0
    for row in rows:
        if row.data != SCRUBBED or row.payload != SCRUBBED:
            row.data, row.payload = SCRUBBED, SCRUBBED
            scrubbed += 1
    return scrubbed


def _cancel_voted_cards(session: Session, ballot_id: int) -> None:
    """Give up the round's "已投票" updates still waiting: after close they would only keep a choice around."""
    name = sealing.key_name(ballot_id)
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == VOTED_CARD,
                                                           OutboxMessage.status.in_(("pending", "sending")))):
        if (row.data or {}).get("_sealed") == name or (row.data or {}).get("ballot_id") == ballot_id:
            row.status, row.claimed_until, row.data, row.payload = "cancelled", None, SCRUBBED, SCRUBBED


def _decided_series(session: Session, settings: Settings) -> list[Ballot] | None:
    """The decided committee vote on the award (replacement votes are their own series)."""
    last = session.scalar(_edition_ballots(settings).where(Ballot.purpose == "award", Ballot.outcome == "decided")
                          .order_by(Ballot.id.desc()))
    return series(session, last.series_id) if last else None


def series_winners(rounds: list[Ballot]) -> list[str]:
    """A vote's winners (option ids, rank order): the counted ones, then those the committee chose itself
    when the vote deadlocked (`decide_tie`), in the order it gave."""
    closed = [b for b in rounds if b.status == "closed"]
    if not closed:
        return []
    winners = list(tally.resolve_rounds([_stored(b.result) for b in closed]).winners)
    decision = closed[-1].decision
    return winners + list(decision["winners"]) if decision else winners


def proposed_winners(session: Session, settings: Settings) -> list[int]:
    """The committee's proposed winners (application ids, in rank order); empty until decided."""
    rounds = _decided_series(session, settings)
    return [application_of(o) for o in series_winners(rounds)] if rounds else []


def series_result(session: Session, series_id: int) -> tuple[str | None, list[int]]:
    """Where a vote stands (its last round's outcome) and, once decided, its winners (application ids)."""
    rounds = series(session, series_id)
    last = rounds[-1] if rounds else None
    if last is None or last.outcome != "decided":
        return (last.outcome if last else None), []
    return last.outcome, [application_of(o) for o in series_winners(rounds)]


def ranked_candidates(session: Session, settings: Settings) -> list[int]:
    """The decided vote's first-round candidates (application ids) in ranking order; empty until decided.
    The ones not proposed are the reserve the committee may call on (`workflows.publicity.places`)."""
    rounds = _decided_series(session, settings)
    return [c["application_id"] for c in rounds[0].candidates] if rounds else []


@dataclass(frozen=True)
class Recount:
    """A round's re-count from the stored papers compared with its recorded result."""

    ballot_id: int
    round_no: int
    ok: bool
    differences: tuple[tally.Difference, ...]
    purpose: str = "award"


def verify(session: Session, settings: Settings) -> list[Recount]:
    """Re-count every closed round from its stored papers and compare with the recorded tally."""
    out = []
    for ballot in session.scalars(_edition_ballots(settings).where(Ballot.result.is_not(None)).order_by(Ballot.id)):
        if "counts" not in ballot.result:  # closed without quorum: nothing was counted
            continue
        res = tally.compare(count(ballot, papers(session, ballot, settings)), _stored(ballot.result))
        out.append(Recount(ballot.id, ballot.round_no, res.ok, res.differences, ballot.purpose))
    return out


def report(session: Session, settings: Settings, series_id: int | None = None) -> dict[str, Any]:
    """The vote's result for the secretariat and the chair (JSON-able); counts only for closed rounds."""
    if series_id is None:
        last = latest_round(session, settings)
        if last is None:
            raise NotFound("vote_not_found")
        series_id = last.series_id
    rounds = series(session, series_id)
    names = {option_id(c["application_id"]): c for b in rounds for c in b.candidates}
    out_rounds = []
    for b in rounds:
        sealed = b.result is None
        counts = {} if sealed else b.result.get("counts", {})
        parts = electors(session, b.id)
        out_rounds.append({
            "ballot_id": b.id, "round_no": b.round_no, "seats": b.seats, "status": b.status, "outcome": b.outcome,
            "opened_at": b.opened_at.isoformat(), "closes_at": b.closes_at.isoformat(),
            "closed_at": b.closed_at.isoformat() if b.closed_at else None, "sealed": sealed,
            "members": len(parts), "voted": sum(1 for p in parts if p.voted_at is not None),
            "quorum": b.result["quorum"] if not sealed else committee.effective(session, settings).quorum,
            "quorum_met": None if sealed else b.result["quorum_met"],
            "confirm": confirmation.is_confirmation(b.candidates, b.seats),
            "recused": sorted(p.member for p in session.scalars(
                select(Participation).where(Participation.ballot_id == b.id, Participation.recused.is_(True)))),
            "candidates": [{**c, "votes": counts.get(option_id(c["application_id"])),
                            "against": counts.get(confirmation.no_option(option_id(c["application_id"]))),
                            "confirmed": None if sealed or "winners" not in b.result
                            else option_id(c["application_id"]) in b.result["winners"]}
                           for c in
                           (sorted(b.candidates, key=lambda c: -counts[option_id(c["application_id"])])
                            if counts else b.candidates)],
            "winners": [] if sealed else [names[o]["enterprise_name"] for o in b.result.get("winners", [])],
            "needed": 0 if sealed else b.result.get("needed", 0),
            "majority": None if sealed else b.result.get("majority"),
            "runoff": None if sealed or not b.result.get("runoff") else {
                "candidates": [names[o]["enterprise_name"] for o in b.result["runoff"]["candidates"]],
                "seats": b.result["runoff"]["seats"],
                # places nobody won with the votes the 议事规则 require (not a tie): a round among the rest
                "shortfall": any(counts.get(o, 0) < b.result.get("needed", 0)
                                 for o in b.result["runoff"]["candidates"])},
        })
    last = rounds[-1]
    winners = []
    if last.outcome == "decided":
        winners = [{"rank": i, "application_id": application_of(o), "enterprise_name": names[o]["enterprise_name"]}
                   for i, o in enumerate(series_winners(rounds), start=1)]
    # An open runoff round means the series is still waiting for it.
    outcome = last.outcome or ("runoff_needed" if last.round_no > 1 else "open")
    decision = last.decision
    return {"series_id": series_id, "outcome": outcome, "winners": winners, "rounds": out_rounds,
            "seats": rounds[0].seats, "purpose": rounds[0].purpose, "context": rounds[0].context or {},
            "decision": None if not decision else {
                **decision, "names": [names[o]["enterprise_name"] for o in decision["winners"]]}}


def reports(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Every vote of the edition (the award vote, then replacement votes), each as `report` gives it."""
    firsts = session.scalars(_edition_ballots(settings).where(Ballot.round_no == 1).order_by(Ballot.id))
    return [report(session, settings, b.series_id) for b in firsts]


def tell_candidates(session: Session, settings: Settings, series_id: int, *, now: dt.datetime) -> int:
    """Every finalist hears the committee's outcome (issue 23.13): tell each first-round candidate of a decided
    award vote the committee did not choose, kindly and without anyone's votes or scores (the chosen hear when
    the notice starts, where they are named publicly).  Called once per vote, when it becomes decided — at the
    close of its last round or at the committee's tie decision.  Returns how many were told."""
    rounds = series(session, series_id)
    if not rounds or rounds[0].purpose != "award":
        return 0
    outcome, winners = series_result(session, series_id)
    if outcome != "decided":
        return 0
    told = 0
    for c in rounds[0].candidates:
        if c["application_id"] in winners:
            continue
        app = session.get(Application, c["application_id"])
        if app is None or not app.applicant:
            continue
        notices.notify(session, app.applicant, "vote.not_chosen", now=now, number=app.number or "",
                       enterprise=app.enterprise_name or c["enterprise_name"], winners=settings.award.rules.winners)
        told += 1
    return told
