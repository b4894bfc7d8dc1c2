"""§五(三): committee members declare their own conflicts of interest, candidate by candidate, before a vote opens.

The secretariat asks (`request`: each member gets the final candidates and how to answer); each member answers
in chat — `利益冲突 无` (none) or `利益冲突 SG2018-001 理由` (one conflict at a time; the declaration then covers
every candidate) — through `declare`. Each conflict becomes a VoteConflict declared by the member himself, so the
ballot leaves that candidate out (`vote_conflict_policy`). With `[award.pledges] committee_declarations` (default
on), `open_ballot` refuses while a member's declaration does not cover every candidate
(`vote_declarations_missing`, naming them). The secretariat's `投票 回避` stays for a conflict found later.
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
from workflows.voting import ballots
from workflows.voting.models import Ballot, CommitteeDeclaration, VoteConflict
from workflows.voting.queries import undeclared


def _candidates(session: Session, settings: Settings) -> list[Application]:
    return [session.get(Application, c.application_id) for c in ballots.final_candidates(session, settings)]


def own(session: Session, settings: Settings, member: str) -> CommitteeDeclaration | None:
    """The member's declaration of this edition, if any."""
    return session.scalar(select(CommitteeDeclaration).where(CommitteeDeclaration.edition == settings.award.edition_key,
                                                            CommitteeDeclaration.member == member))


def status(session: Session, settings: Settings, member: str) -> dict[str, Any]:
    """The final candidates, which the member declared a conflict with, and whether his declaration covers all."""
    apps = _candidates(session, settings)
    conflicted = ballots.conflicts_of(session, settings, member)
    row = own(session, settings, member)
    return {"candidates": [{"number": a.number, "enterprise": a.enterprise_name or "", "conflict": a.id in conflicted}
                           for a in apps],
            "complete": row is not None and {a.id for a in apps} <= set(row.candidates)}


@access.guarded("vote.declare")
def declare(session: Session, settings: Settings, *, actor: str, now: dt.datetime, number: str | None = None,
            reason: str = "") -> dict[str, Any]:
    """The member declares: no conflict (`number` None) or a conflict with candidate `number`; either way his
    declaration now covers every final candidate. Refused once a vote is open (the secretariat records it then)."""
    if session.scalar(select(Ballot.id).where(Ballot.edition == settings.award.edition_key,
                                              Ballot.status == "open").limit(1)):
        raise AlreadyDone("vote_already_open")
    apps = _candidates(session, settings)
    app = None
    if number is not None:
        app = next((a for a in apps if (a.number or "").upper() == number.strip().upper()), None)
        if app is None:
            raise InvalidInput("declare_not_candidate", number=number,
                               candidates=[a.number for a in apps])
        if app.id not in ballots.conflicts_of(session, settings, actor):
            session.add(VoteConflict(edition=settings.award.edition_key, member=actor, application_id=app.id,
                                     reason=reason.strip()[:500], declared_by=actor, declared_at=now))
    row = own(session, settings, actor)
    if row is None:
        row = CommitteeDeclaration(edition=settings.award.edition_key, member=actor, declared_at=now)
        session.add(row)
    row.candidates, row.declared_at = [a.id for a in apps], now
    session.flush()
    row.conflicts = sorted(ballots.conflicts_of(session, settings, actor) & {a.id for a in apps})
    audit.record(session, actor=actor, action="vote.self_declared", subject=f"declaration:{row.id}", now=now,
                 candidates=row.candidates, conflicts=row.conflicts,
                 application=app.number if app is not None else None, reason=reason.strip()[:500])
    return status(session, settings, actor)


@access.guarded("vote.manage")
def request(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> list[str]:
    """Ask every committee member whose declaration does not cover the final candidates; audited."""
    apps = _candidates(session, settings)
    electorate = [p.userid for p in people.with_role(session, *ballots.ELECTORATE)]
    missing = undeclared(session, settings, electorate, [a.id for a in apps])
    shown = [{"number": a.number, "enterprise": a.enterprise_name or ""} for a in apps]
    for member in missing:
        notices.notify(session, member, "vote.declare_request", now=now, candidates=shown)
    audit.record(session, actor=actor, action="vote.declarations_requested",
                 subject=f"edition:{settings.award.edition_key}", now=now, members=missing)
    return missing
