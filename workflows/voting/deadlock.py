"""The committee decides a deadlocked tie itself (a tie with 决选=无 in the 议事规则, or a runoff tied again).

Nothing is broken silently: the chair records, for the committee, which of the tied candidates take the places
still open, with the reason as minuted (e.g. the meeting); confirmed by card in chat, audited
`committee.tie_decision`.  Only tied candidates, exactly as many as the open places.  The deadlocked round keeps
its counted result; the decision is stored beside it (`Ballot.decision`) and the vote becomes `decided`, so the
notice (`公示 开始`), or the place a replacement vote was for, goes on from it.  See docs/committee.md §4a.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core import access, audit, notices, people
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.core.settings import Settings
from workflows.voting import tally
from workflows.voting.ballots import application_of, option_id
from workflows.voting.closing import RESULT_TO, _stored, latest_round, report, series, tell_candidates
from workflows.voting.models import Ballot

REASON_MIN = 4


def _deadlocked(session: Session, settings: Settings) -> tuple[Ballot, tally.Runoff]:
    """The latest round, if it ended in a deadlock, and the tie still open (candidates, places)."""
    last = latest_round(session, settings)
    if last is None or last.status != "closed" or last.outcome != tally.Outcome.DEADLOCKED.value:
        raise InvalidInput("vote_tie_not_deadlocked")
    rounds = [b for b in series(session, last.series_id) if b.status == "closed"]
    pending = tally.resolve_rounds([_stored(b.result) for b in rounds]).pending
    assert pending is not None
    return last, pending


def _name(ballot: Ballot, app_id: int) -> str:
    return next((c["enterprise_name"] for c in ballot.candidates if c["application_id"] == app_id), str(app_id))


def tie_data(session: Session, settings: Settings) -> dict[str, Any]:
    """The open tie: who is tied and for how many places (the usage reply and the card show it)."""
    last, pending = _deadlocked(session, settings)
    tied = [application_of(o) for o in pending.candidates]
    numbers = {a.id: a.number for a in session.scalars(select(Application).where(Application.id.in_(tied)))}
    return {"ballot_id": last.id, "round_no": last.round_no, "seats": pending.seats, "purpose": last.purpose,
            "tied": [{"application_id": i, "number": numbers.get(i) or str(i), "name": _name(last, i)} for i in tied]}


def check_tie_decidable(session: Session, settings: Settings, refs: list[str], reason: str) -> dict[str, Any]:
    """Everything `decide_tie` checks, without changing anything: what the confirmation card shows."""
    shown = tie_data(session, settings)
    by_ref = {}
    for t in shown["tied"]:
        by_ref[t["number"].upper()] = t
        by_ref[str(t["application_id"])] = t
    chosen = []
    for ref in refs:
        t = by_ref.get(ref.strip().upper())
        if t is None:
            raise InvalidInput("vote_tie_not_tied", ref=ref, tied=[x["number"] for x in shown["tied"]])
        if t in chosen:
            raise InvalidInput("vote_tie_wrong_count", seats=shown["seats"], given=len(refs))
        chosen.append(t)
    if len(chosen) != shown["seats"]:
        raise InvalidInput("vote_tie_wrong_count", seats=shown["seats"], given=len(chosen))
    if len(reason.strip()) < REASON_MIN:
        raise InvalidInput("vote_tie_reason", min=REASON_MIN)
    return {**shown, "chosen": chosen, "reason": reason.strip()}


@access.guarded("committee.decide")
def decide_tie(session: Session, settings: Settings, *, actor: str, now: dt.datetime, refs: list[str],
               reason: str) -> Ballot:
    """Record the committee's decision on a deadlocked tie; the vote is then decided.  Everyone on the
    committee and the secretariat are told."""
    shown = check_tie_decidable(session, settings, refs, reason)
    last = session.scalar(select(Ballot).where(Ballot.id == shown["ballot_id"]).with_for_update())
    assert last is not None
    if last.outcome != tally.Outcome.DEADLOCKED.value:   # decided meanwhile
        raise AlreadyDone("vote_tie_not_deadlocked")
    winners = [option_id(t["application_id"]) for t in shown["chosen"]]
    last.decision = {"winners": winners, "reason": shown["reason"], "decided_by": actor,
                     "decided_at": now.isoformat(), "tied": [option_id(t["application_id"]) for t in shown["tied"]],
                     "seats": shown["seats"]}
    last.outcome = tally.Outcome.DECIDED.value
    session.flush()
    audit.record(session, actor=actor, action="committee.tie_decision", subject=f"ballot:{last.id}", now=now,
                 series=last.series_id, purpose=last.purpose, tied=[t["application_id"] for t in shown["tied"]],
                 chosen=[t["application_id"] for t in shown["chosen"]], seats=shown["seats"], reason=shown["reason"])
    recipients = sorted({p.userid for p in people.with_role(session, *RESULT_TO)})
    notices.notify(session, recipients, "vote.tie_decided", now=now, **report(session, settings, last.series_id))
    tell_candidates(session, settings, last.series_id, now=now)   # the finalists not chosen (issue 23.13)
    return last
