"""Opening a ballot round, sending the cards, conflicts (回避) and casting a secret ballot."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import committee
from workflows.core import access, audit, notices, people, stages
from workflows.voting import confirmation, sealing, tally
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.core.sealed import KeyUnavailable
from workflows.apply.models import Application
from workflows.voting.models import Ballot, Participation, SealedPaper, VoteConflict
from workflows.voting.queries import undeclared
from workflows.core.models import CardTask
from workflows.core.settings import Settings
from workflows.scoring import results

ELECTORATE = ("committee", "committee_chair")
CARD = "vote.ballot"
VOTED_CARD = "vote.voted"


@dataclass(frozen=True)
class CandidateInfo:
    """One candidate on the ballot, with the scores the committee sees."""

    application_id: int
    enterprise_name: str
    composite: float | None = None
    material: float | None = None
    site: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form stored on the ballot."""
        return {"application_id": self.application_id, "enterprise_name": self.enterprise_name,
                "composite": self.composite, "material": self.material, "site": self.site}


def option_id(application_id: int) -> str:
    """The card option id of a candidate."""
    return f"app-{application_id}"


def application_of(option: str) -> int | None:
    """The application id behind a card option id, or None if it is not one."""
    prefix, _, number = option.partition("-")
    return int(number) if prefix == "app" and number.isdigit() else None


def question_key(ballot_id: int) -> str:
    """The checkbox question key of a round's card."""
    return f"ballot-{ballot_id}"


def submit_key(ballot_id: int) -> str:
    """The submit button key of a round's card (routed by the `vote:` prefix)."""
    return f"vote:submit:{ballot_id}"


def final_candidates(session: Session, settings: Settings) -> list[CandidateInfo]:
    """The top `vote_top` of the final expert ranking, from workflows.results if it exists."""
    rows = list(results.final_top(session, settings))[: settings.award.rules.vote_top]
    if not rows:
        raise InvalidInput("vote_ranking_unavailable")
    return [CandidateInfo(app.id, app.enterprise_name or str(app.id), _num(composite), _num(material), _num(site))
            for app, composite, material, site in rows]


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def _electorate(session: Session) -> list[str]:
    return [p.userid for p in people.with_role(session, *ELECTORATE)]


def conflicts_of(session: Session, settings: Settings, member: str) -> set[int]:
    """Application ids this member declared a conflict with."""
    return set(session.scalars(select(VoteConflict.application_id).where(
        VoteConflict.edition == settings.award.edition_key, VoteConflict.member == member)))


def check_openable(session: Session, settings: Settings, *, now: dt.datetime, candidates: Sequence[CandidateInfo],
                   closes_at: dt.datetime | None = None) -> dict[str, Any]:
    """Everything `open_ballot` checks, without changing anything: what the confirmation card shows."""
    closes_at = _checked(session, settings, now=now, candidates=candidates, closes_at=closes_at)
    seats = settings.award.rules.winners
    confirm = confirmation.is_confirmation(candidates, seats)
    return {"names": [c.enterprise_name for c in candidates], "seats": seats, "confirm": confirm,
            "picks": None if confirm else committee.effective(session, settings).picks_for(seats),
            "closes_at": closes_at.isoformat(), "members": len(_electorate(session))}


@access.guarded("vote.manage")
def open_ballot(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                candidates: Sequence[CandidateInfo], closes_at: dt.datetime | None = None) -> Ballot:
    """Open the committee vote on the final top candidates; every member gets a ballot card.

    More candidates than seats: each member chooses (as many as the 议事规则 say, by default the seats).
    No more candidates than seats: each member confirms every candidate (同意/不同意), see `confirmation`.
    """
    closes_at = _checked(session, settings, now=now, candidates=candidates, closes_at=closes_at)
    _unseal_abandoned(session, settings)
    ballot = start_round(session, settings, actor=actor, now=now, candidates=[c.as_dict() for c in candidates],
                         seats=settings.award.rules.winners, closes_at=closes_at, runoff_of=None)
    return ballot


def _checked(session: Session, settings: Settings, *, now: dt.datetime, candidates: Sequence[CandidateInfo],
             closes_at: dt.datetime | None) -> dt.datetime:
    rules = settings.award.rules
    stages.require_open(session, settings, "vote", now=now)
    if committee.latest_meeting(session, settings) is None:   # seed §三(二): the 议事规则 come first
        raise InvalidInput("vote_rules_not_recorded")
    ids = [c.application_id for c in candidates]
    if not 1 <= len(ids) <= rules.vote_top or len(set(ids)) != len(ids):
        raise InvalidInput("vote_candidates_count", count=len(ids), winners=rules.winners, top=rules.vote_top)
    picks = committee.effective(session, settings).picks_for(rules.winners)
    if len(ids) > rules.winners and picks >= len(ids):
        raise InvalidInput("vote_picks_too_many", picks=picks, count=len(ids))
    for c in candidates:
        app = session.get(Application, c.application_id)
        if app is None or app.edition != settings.award.edition_key:
            raise NotFound(what=f"申报 {c.application_id}")
    edition = settings.award.edition_key
    if session.scalar(select(Ballot.id).where(Ballot.edition == edition, Ballot.status == "open").limit(1)):
        raise AlreadyDone("vote_already_open")
    if session.scalar(select(Ballot.id).where(Ballot.edition == edition, Ballot.purpose == "award",
                                              Ballot.outcome == "decided").limit(1)):
        raise AlreadyDone("vote_already_decided")
    closes_at = closes_at or stages.deadline(session, settings, "vote")
    if closes_at.tzinfo is None or closes_at <= now:
        raise InvalidInput("vote_closes_at_past", closes_at=closes_at.isoformat())
    if not _electorate(session):
        raise InvalidInput("vote_no_members")
    if settings.award.pledges.committee_declarations:   # §五(三): each member declared his own interests first
        missing = undeclared(session, settings, _electorate(session), ids)
        if missing:
            raise InvalidInput("vote_declarations_missing",
                               members=[(people.get(session, m).name or m) for m in missing])
    return closes_at


@access.guarded("vote.manage")
def start_round(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                candidates: list[dict[str, Any]], seats: int, closes_at: dt.datetime,
                runoff_of: Ballot | None) -> Ballot:
    """Create a round (first or runoff), its participations and cards; audited."""
    return _start_round(session, settings, actor=actor, now=now, candidates=candidates, seats=seats,
                        closes_at=closes_at, runoff_of=runoff_of)


@access.guarded("committee.decide")
def open_replacement_round(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                           application_ids: Sequence[int], closes_at: dt.datetime,
                           context: dict[str, Any]) -> Ballot:
    """The chair, for the committee, fills a place emptied by an upheld complaint by a new vote: one seat, among
    `application_ids` (remaining candidates of the decided vote's ranking, in that order).  Same cards, secrecy,
    quorum and close as any round; marked `purpose = "replacement"` with `context` (complaint, place)."""
    ranked = {c["application_id"]: c for c in _award_first_round(session, settings).candidates}
    ids = list(application_ids)
    if not ids or len(set(ids)) != len(ids) or any(i not in ranked for i in ids):
        raise InvalidInput("complaint_no_reserve")
    if session.scalar(select(Ballot.id).where(Ballot.edition == settings.award.edition_key,
                                              Ballot.status == "open").limit(1)):
        raise AlreadyDone("vote_already_open")
    if closes_at.tzinfo is None or closes_at <= now:
        raise InvalidInput("vote_closes_at_past", closes_at=closes_at.isoformat())
    _unseal_abandoned(session, settings)
    return _start_round(session, settings, actor=actor, now=now, candidates=[ranked[i] for i in ids], seats=1,
                        closes_at=closes_at, runoff_of=None, purpose="replacement", context=context)


def _award_first_round(session: Session, settings: Settings) -> Ballot:
    """The first round of the decided committee vote on the award (whose ranking a replacement draws on)."""
    last = session.scalar(select(Ballot).where(Ballot.edition == settings.award.edition_key,
                                               Ballot.purpose == "award", Ballot.outcome == "decided")
                          .order_by(Ballot.id.desc()).limit(1))
    if last is None:
        raise InvalidInput("publicity_vote_unavailable")
    first = session.get(Ballot, last.series_id)
    assert first is not None
    return first


def _unseal_abandoned(session: Session, settings: Settings) -> None:
    """A round left without quorum can no longer be reopened once a new vote starts: open its papers for good."""
    for stale in session.scalars(select(Ballot).where(Ballot.edition == settings.award.edition_key,
                                                      Ballot.status == "no_quorum")):
        if sealing.has_sealed(session, stale.id) or sealing.has_round_key(settings, stale.id):
            sealing.unseal_round(session, settings, stale)


def _start_round(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                 candidates: list[dict[str, Any]], seats: int, closes_at: dt.datetime,
                 runoff_of: Ballot | None, purpose: str | None = None,
                 context: dict[str, Any] | None = None) -> Ballot:
    members = _electorate(session)
    if not members:
        raise InvalidInput("vote_no_members")
    ballot = Ballot(edition=settings.award.edition_key, seats=seats, candidates=candidates, status="open",
                    opened_by=actor, opened_at=now, closes_at=closes_at,
                    round_no=runoff_of.round_no + 1 if runoff_of else 1,
                    runoff_of=runoff_of.id if runoff_of else None,
                    purpose=purpose or (runoff_of.purpose if runoff_of else "award"),
                    context=context if context is not None else (runoff_of.context if runoff_of else None))
    session.add(ballot)
    session.flush()
    ballot.series_id = runoff_of.series_id if runoff_of else ballot.id
    sealing.create_round_key(settings, ballot.id)
    audit.record(session, actor=actor, action="vote.open" if runoff_of is None else "vote.runoff_open",
                 subject=f"ballot:{ballot.id}", now=now, round=ballot.round_no, seats=seats,
                 candidates=[c["application_id"] for c in candidates], closes_at=closes_at,
                 members=len(members), series=ballot.series_id, purpose=ballot.purpose)
    for member in members:
        part = _participation(session, settings, ballot, member)
        session.add(part)
        for app_id in part.excluded:
            audit.record(session, actor=actor, action="vote.conflict_excluded", subject=f"ballot:{ballot.id}",
                         now=now, member=member, application=app_id, recused=part.recused)
        if not part.recused:
            send_ballot_card(session, settings, ballot, part, now=now)
    session.flush()
    return ballot


def _participation(session: Session, settings: Settings, ballot: Ballot, member: str) -> Participation:
    """What this member is offered in this round, given declared conflicts and the policy."""
    conflicted = conflicts_of(session, settings, member)
    rules = committee.effective(session, settings)
    ids = [c["application_id"] for c in ballot.candidates]
    excluded = [i for i in ids if i in conflicted] if rules.conflict_policy == "exclude" else []
    offered = [option_id(i) for i in ids if i not in excluded]
    if confirmation.is_confirmation(ballot.candidates, ballot.seats):
        # A yes/no on every candidate left; nothing left to confirm is a recusal.
        return Participation(ballot_id=ballot.id, member=member, offered=confirmation.offered(offered),
                             excluded=excluded, required=len(offered), recused=not offered)
    # The recorded picks apply to the award vote's first round; runoffs and replacement votes: the seats open.
    required = rules.picks_for(ballot.seats) if ballot.round_no == 1 and ballot.purpose == "award" else ballot.seats
    # Choosing n of n is no choice: such a member sits the round out (recorded), not forced.
    recused = len(offered) <= required
    return Participation(ballot_id=ballot.id, member=member, offered=offered, excluded=excluded,
                         required=required, recused=recused)


def card_data(ballot: Ballot, part: Participation) -> dict[str, Any]:
    """What the ballot card shows one member (JSON-able)."""
    by_option = {option_id(c["application_id"]): c for c in ballot.candidates}
    confirm = confirmation.is_confirmation(ballot.candidates, ballot.seats)
    return {"ballot_id": ballot.id, "round_no": ballot.round_no, "required": part.required,
            "closes_at": ballot.closes_at.isoformat(), "question_key": question_key(ballot.id),
            "submit_key": submit_key(ballot.id), "confirm": confirm, "seats": ballot.seats,
            "candidates": [{**by_option[o], "option_id": o,
                            **({"no_option_id": confirmation.no_option(o)} if confirm else {})}
                           for o in part.offered if o in by_option],
            "excluded": [c["enterprise_name"] for c in ballot.candidates if c["application_id"] in part.excluded]}


def send_ballot_card(session: Session, settings: Settings, ballot: Ballot, part: Participation, *,
                     now: dt.datetime) -> CardTask:
    """Send (or re-send) a member's ballot card; the previous card stops counting."""
    if part.task_id:
        old = session.get(CardTask, part.task_id)
        if old is not None and old.status == "open":
            old.status, old.closed_at = "closed", now
    task = notices.send_card(session, part.member, CARD, subject=f"ballot:{ballot.id}", now=now,
                             **card_data(ballot, part))
    part.task_id = task.task_id
    return task


@access.guarded("vote.manage")
def declare_conflict(session: Session, settings: Settings, *, actor: str, now: dt.datetime, member: str,
                     application: str, reason: str = "") -> dict[str, Any]:
    """Record a member's conflict with an application (by number or id); re-issue an open round's card."""
    person = people.get(session, member)
    if person is None or person.role not in ELECTORATE:
        raise NotFound("vote_unknown_member", member=member)
    app = session.scalar(select(Application).where(Application.edition == settings.award.edition_key,
                                                   Application.number == application))
    if app is None and application.isdigit():
        app = session.get(Application, int(application))
    if app is None or app.edition != settings.award.edition_key:
        raise NotFound(what=f"申报 {application}")
    if app.id in conflicts_of(session, settings, member):
        raise AlreadyDone(what="回避声明")
    session.add(VoteConflict(edition=settings.award.edition_key, member=member, application_id=app.id,
                             reason=reason, declared_by=actor, declared_at=now))
    session.flush()
    audit.record(session, actor=actor, action="vote.conflict_declared", subject=f"application:{app.id}",
                 now=now, member=member, reason=reason)
    outcome = {"member": member, "member_name": person.name, "enterprise_name": app.enterprise_name or "",
               "reissued": False, "already_voted": False}
    for ballot in session.scalars(select(Ballot).where(Ballot.edition == settings.award.edition_key,
                                                       Ballot.status == "open")):
        part = _part(session, ballot.id, member)
        if part is None or app.id not in [c["application_id"] for c in ballot.candidates]:
            continue
        if part.voted_at is not None:
            outcome["already_voted"] = True
            continue
        fresh = _participation(session, settings, ballot, member)
        part.offered, part.excluded, part.recused = fresh.offered, fresh.excluded, fresh.recused
        if part.excluded:
            audit.record(session, actor=actor, action="vote.conflict_excluded", subject=f"ballot:{ballot.id}",
                         now=now, member=member, application=app.id, recused=part.recused)
            if part.recused:
                old = session.get(CardTask, part.task_id) if part.task_id else None
                if old is not None:
                    old.status, old.closed_at = "closed", now
                notices.notify(session, member, "vote.recused", now=now, ballot_id=ballot.id)
            else:
                send_ballot_card(session, settings, ballot, part, now=now)
            outcome["reissued"] = True
    return outcome


def _part(session: Session, ballot_id: int, member: str, *, lock: bool = False) -> Participation | None:
    q = select(Participation).where(Participation.ballot_id == ballot_id, Participation.member == member)
    return session.scalar(q.with_for_update() if lock else q)


@dataclass(frozen=True)
class CastOutcome:
    """What happened to a submitted ballot; `status` picks the reply."""

    status: str  # recorded|replaced|invalid|already_voted|not_member|closed|stale_card|unknown_ballot|sealing_unavailable
    ballot_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _refuse(session: Session, actor: str, now: dt.datetime, status: str, ballot_id: int | None,
            **data: Any) -> CastOutcome:
    audit.record(session, actor=actor, action="vote.refused", subject=f"ballot:{ballot_id}" if ballot_id else "",
                 now=now, reason=status, **{k: v for k, v in data.items() if k in ("code", "chosen", "required")})
    return CastOutcome(status, ballot_id, data)


@access.guarded("vote.cast")
def cast_ballot(session: Session, settings: Settings, *, actor: str, now: dt.datetime, ballot_id: int,
                task_id: str, selected: dict[str, Sequence[str]],
                response_code: str | None = None) -> CastOutcome:
    """Record a member's secret ballot from a card submission, or refuse it (audited either way)."""
    ballot = session.scalar(select(Ballot).where(Ballot.id == ballot_id).with_for_update(read=True))
    if ballot is None or ballot.edition != settings.award.edition_key:
        return _refuse(session, actor, now, "unknown_ballot", None)
    part = _part(session, ballot.id, actor, lock=True)
    task = session.get(CardTask, task_id) if task_id else None
    if part is None or part.recused or task is None or task.recipient != actor or task.subject != f"ballot:{ballot.id}":
        # Not this round's elector, or a card that was never sent to them: a forged or misrouted event.
        return _refuse(session, actor, now, "not_member", ballot.id)
    if ballot.status != "open" or now > ballot.closes_at:
        return _refuse(session, actor, now, "closed", ballot.id,
                       closes_at=(ballot.closed_at or ballot.closes_at).isoformat())
    change = part.voted_at is not None
    allow_change = committee.effective(session, settings).allow_ballot_change
    if change and not allow_change:
        return _refuse(session, actor, now, "already_voted", ballot.id, voted_at=part.voted_at.isoformat())
    if task_id != part.task_id or task.status != "open":
        return _refuse(session, actor, now, "stale_card", ballot.id)
    try:
        key = sealing.round_key(settings, ballot.id)
    except KeyUnavailable:
        # Without the round's key file no paper can be sealed: refuse rather than store a readable choice.
        return _refuse(session, actor, now, "sealing_unavailable", ballot.id)
    slot = sealing.slot(key, ballot.id, actor)
    previous = sealing.find(session, ballot.id, slot, lock=True) if change else None
    if change and previous is None:  # a paper opened at an earlier close (or cast before sealing) stays as it is
        return _refuse(session, actor, now, "already_voted", ballot.id, voted_at=part.voted_at.isoformat())
    qkey = question_key(ballot.id)
    chosen = list(selected.get(qkey, ()))
    chosen += [o for key, options in selected.items() if key != qkey for o in options]
    confirm = confirmation.is_confirmation(ballot.candidates, ballot.seats)
    checked = (confirmation.validate(chosen, part.offered) if confirm
               else tally.validate_selection(chosen, part.offered, part.required))
    if isinstance(checked, tally.SelectionError):
        outcome = _refuse(session, actor, now, "invalid", ballot.id, code=checked.code, required=part.required,
                          chosen=len(chosen))
        notices.notify(session, actor, "vote.invalid", now=now, **outcome.data)
        if response_code:
            notices.update_card(session, task, "vote.superseded", response_code=response_code, now=now,
                                replace_name="void")
        send_ballot_card(session, settings, ballot, part, now=now)
        return outcome
    # The paper is sealed under the round's key file: no plaintext choice reaches the database while open.
    size = sealing.paper_size([c["application_id"] for c in ballot.candidates], confirm)
    blob = sealing.seal_paper(key, ballot.id, slot, [confirmation.stored_value(o) for o in checked], size)
    if previous is not None:
        previous.sealed = blob
    else:
        session.add(SealedPaper(ballot_id=ballot.id, slot=slot, sealed=blob))
    receipt = secrets.token_hex(4).upper()
    part.voted_at = now
    part.receipt_hash = hashlib.sha256(f"{ballot.id}:{receipt}".encode()).hexdigest()
    part.changes += 1 if change else 0
    # The audit says that and when a member voted, never what.
    audit.record(session, actor=actor, action="vote.replaced" if change else "vote.cast",
                 subject=f"ballot:{ballot.id}", now=now, round=ballot.round_no)
    names = {option_id(c["application_id"]): c["enterprise_name"] for c in ballot.candidates}
    if confirm:
        names.update({confirmation.no_option(o): f"不同意：{n}" for o, n in names.items()})
        names.update({o: f"同意：{n}" for o, n in names.items() if not o.startswith(confirmation.NO_PREFIX)})
    data = {"ballot_id": ballot.id, "round_no": ballot.round_no, "receipt": receipt, "confirm": confirm,
            "single": part.required == 1 and not confirm,
            "chosen": [names[o] for o in checked], "closes_at": ballot.closes_at.isoformat(),
            "can_change": allow_change, "question_key": qkey,
            "submit_key": submit_key(ballot.id)}
    if response_code:
        # `_sealed`: the outbox keeps this update (it shows the member's own ticks) encrypted under the
        # round's key, and blanks it once delivered or given up (bot/outbox.py, bot/sender.py).
        # `_seal_like`: the longest card this round allows (every option named, none ticked), so the
        # sealed row has one size for the whole round, whatever was chosen (docs/voting.md, 投票保密).
        like = {"chosen": list(names.values()), "single": False,
                "options": [{"option_id": o, "text": n, "checked": False} for o, n in names.items()]}
        notices.update_card(session, task, VOTED_CARD, response_code=response_code, now=now,
                            options=[{"option_id": o, "text": names[o], "checked": o in checked}
                                     for o in part.offered], _sealed=sealing.key_name(ballot.id),
                            _seal_like=like, **data)
    else:
        task.status, task.closed_at = "closed", now
    return CastOutcome("replaced" if change else "recorded", ballot.id, data)


@access.guarded("vote.cast")
def reissue_card(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> list[int]:
    """Send a member a fresh card for each open round (lost card, or a change where allowed)."""
    rounds = []
    for ballot in session.scalars(select(Ballot).where(Ballot.edition == settings.award.edition_key,
                                                       Ballot.status == "open").order_by(Ballot.id)):
        part = _part(session, ballot.id, actor, lock=True)
        if part is None or part.recused or now > ballot.closes_at:
            continue
        if part.voted_at is not None and not committee.effective(session, settings).allow_ballot_change:
            continue
        send_ballot_card(session, settings, ballot, part, now=now)
        audit.record(session, actor=actor, action="vote.card_reissued", subject=f"ballot:{ballot.id}", now=now)
        rounds.append(ballot.id)
    return rounds
