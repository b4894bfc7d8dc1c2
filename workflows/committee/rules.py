"""The 议事规则 for the vote: recorded at the first committee meeting (stage 2), else the configured defaults.

`effective(session, settings)` is the one answer to "which rules does the vote follow": the newest
recorded rules of the edition, or `[award.rules]` when none were recorded.  Recording is audited with
the old and the new values.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.committee.models import CommitteeMeeting, VoteRulesRecord
from workflows.core import access, audit
from workflows.core.errors import InvalidInput
from workflows.core.settings import Settings

CONFLICT_POLICIES = ("exclude", "allow")
SHORTFALLS = ("runoff", "vacant")


@dataclass(frozen=True)
class VoteRules:
    """The rules the vote follows; `source` says where they come from (`config` or `meeting`)."""

    quorum: str
    picks: int | None
    runoff: bool
    runoff_hours: int
    conflict_policy: str
    allow_ballot_change: bool
    majority: str = "1/2"        # a winner needs more than this share of the round's ballots ("0": none)
    shortfall: str = "runoff"    # fewer winners than places: runoff among the rest, or vacant
    source: str = "config"
    meeting_id: int | None = None

    @property
    def quorum_fraction(self) -> Fraction:
        """The quorum as an exact fraction."""
        return Fraction(self.quorum)

    def picks_for(self, seats: int) -> int:
        """How many candidates each member ticks in a round for `seats` places."""
        return self.picks if self.picks is not None else seats


def _defaults(settings: Settings) -> VoteRules:
    r = settings.award.rules
    return VoteRules(quorum=r.quorum, picks=None, runoff=True, runoff_hours=r.runoff_hours,
                     conflict_policy=r.vote_conflict_policy, allow_ballot_change=r.allow_ballot_change,
                     majority=r.win_majority, shortfall=r.win_shortfall)


def _latest(session: Session, settings: Settings) -> VoteRulesRecord | None:
    return session.scalar(select(VoteRulesRecord).where(VoteRulesRecord.edition == settings.award.edition_key)
                          .order_by(VoteRulesRecord.id.desc()).limit(1))


def effective(session: Session, settings: Settings) -> VoteRules:
    """The rules in force: the newest recorded ones, else the configuration's defaults."""
    row = _latest(session, settings)
    if row is None:
        return _defaults(settings)
    r = settings.award.rules
    return VoteRules(quorum=row.quorum, picks=row.picks, runoff=row.runoff, runoff_hours=row.runoff_hours,
                     conflict_policy=row.conflict_policy, allow_ballot_change=row.allow_ballot_change,
                     majority=row.majority or r.win_majority, shortfall=row.shortfall or r.win_shortfall,
                     source="meeting", meeting_id=row.meeting_id)


def latest_meeting(session: Session, settings: Settings) -> CommitteeMeeting | None:
    """The most recently recorded meeting of this edition."""
    return session.scalar(select(CommitteeMeeting).where(CommitteeMeeting.edition == settings.award.edition_key)
                          .order_by(CommitteeMeeting.id.desc()).limit(1))


def _check_majority(majority: str) -> str:
    majority = majority.strip().replace("／", "/")
    try:
        value = Fraction(majority)
    except (ValueError, ZeroDivisionError):
        raise InvalidInput("committee_bad_majority", majority=majority) from None
    if not (majority == "0" or ("/" in majority and 0 < value < 1)):
        raise InvalidInput("committee_bad_majority", majority=majority)
    return majority


def _check_quorum(quorum: str) -> str:
    quorum = quorum.strip().replace("／", "/")
    try:
        value = Fraction(quorum)
    except (ValueError, ZeroDivisionError):
        raise InvalidInput("committee_bad_quorum", quorum=quorum) from None
    if "/" not in quorum or not 0 < value <= 1:
        raise InvalidInput("committee_bad_quorum", quorum=quorum)
    return quorum


@access.guarded("committee.rules")
def record_meeting(session: Session, settings: Settings, *, actor: str, now: dt.datetime, held_on: dt.date,
                   attendees: list[str], decisions: str, quorum: str | None = None, picks: int | None = None,
                   runoff: bool | None = None, runoff_hours: int | None = None,
                   conflict_policy: str | None = None, allow_ballot_change: bool | None = None,
                   majority: str | None = None, shortfall: str | None = None, minutes_ref: str = "") -> VoteRulesRecord:
    """Record a committee meeting and the vote rules it adopted (unset ones keep the rules in force);
    `minutes_ref` names the minutes or document that adopted them (会议纪要编号)."""
    attendees = [a.strip() for a in attendees if a.strip()]
    if not attendees:
        raise InvalidInput("committee_no_attendees")
    if not decisions.strip():
        raise InvalidInput("committee_no_decisions")
    if held_on > now.astimezone(settings.award.tz).date():
        raise InvalidInput("committee_meeting_in_future", held_on=held_on.isoformat())
    before = effective(session, settings)
    r = settings.award.rules
    picks = before.picks if picks is None else picks
    if picks is not None and not 1 <= picks <= r.vote_top:
        raise InvalidInput("committee_bad_picks", picks=picks, top=r.vote_top)
    runoff_hours = before.runoff_hours if runoff_hours is None else runoff_hours
    if runoff_hours < 1:
        raise InvalidInput("committee_bad_runoff_hours", hours=runoff_hours)
    policy = before.conflict_policy if conflict_policy is None else conflict_policy
    if policy not in CONFLICT_POLICIES:
        raise InvalidInput("committee_bad_conflict_policy", policy=policy)
    quorum = _check_quorum(quorum) if quorum else before.quorum   # every check before anything is written
    majority = _check_majority(majority) if majority else before.majority
    shortfall = shortfall or before.shortfall
    if shortfall not in SHORTFALLS:
        raise InvalidInput("committee_bad_shortfall", shortfall=shortfall)
    minutes_ref = minutes_ref.strip()
    if len(minutes_ref) > 200:
        raise InvalidInput("committee_bad_minutes_ref")
    meeting = CommitteeMeeting(edition=settings.award.edition_key, held_on=held_on.isoformat(),
                               attendees=attendees, decisions=decisions.strip(), minutes_ref=minutes_ref,
                               recorded_by=actor, recorded_at=now)
    session.add(meeting)
    session.flush()
    row = VoteRulesRecord(edition=settings.award.edition_key, meeting_id=meeting.id,
                          quorum=quorum, picks=picks,
                          runoff=before.runoff if runoff is None else runoff, runoff_hours=runoff_hours,
                          conflict_policy=policy,
                          allow_ballot_change=before.allow_ballot_change if allow_ballot_change is None
                          else allow_ballot_change, majority=majority, shortfall=shortfall,
                          recorded_by=actor, recorded_at=now)
    session.add(row)
    session.flush()
    after = effective(session, settings)
    audit.record(session, actor=actor, action="committee.rules", subject=f"committee_meeting:{meeting.id}",
                 now=now, held_on=meeting.held_on, attendees=attendees, decisions=meeting.decisions,
                 minutes_ref=minutes_ref,
                 old=_plain(before), new=_plain(after))
    return row


def _plain(rules: VoteRules) -> dict[str, Any]:
    return {k: v for k, v in asdict(rules).items() if k not in ("source", "meeting_id")}


def rules_data(session: Session, settings: Settings) -> dict[str, Any]:
    """The rules in force and the meeting that adopted them, as template data."""
    rules = effective(session, settings)
    meeting = session.get(CommitteeMeeting, rules.meeting_id) if rules.meeting_id else None
    q = rules.quorum_fraction
    m = Fraction(rules.majority)
    return {**asdict(rules), "majority_numerator": m.numerator, "majority_denominator": m.denominator, "winners": settings.award.rules.winners, "vote_top": settings.award.rules.vote_top,
            "quorum_numerator": q.numerator, "quorum_denominator": q.denominator,
            "meeting": None if meeting is None else {
                "id": meeting.id, "held_on": meeting.held_on, "attendees": list(meeting.attendees),
                "decisions": meeting.decisions, "minutes_ref": meeting.minutes_ref, "recorded_by": meeting.recorded_by,
                "recorded_at": meeting.recorded_at.isoformat()}}
