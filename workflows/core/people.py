"""The roster: who is secretariat, recommender, expert, committee member.

Regions are stored in one canonical form, the configured region's *name*: `roster import` accepts a
configured region by name or by its six-digit code and refuses anything code-shaped that is not
configured; a recommender must name a configured region or a configured department (its
`organization`), so every lookup (cards, reminders, conflicts) compares names only.
Deactivating a member (`--replace`, `remove`) or changing his role takes effect at once: the gate
reads the roster on every call, and his current conversation is ended.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflows.core import access, audit
from workflows.core.clock import queued_at
from workflows.core.errors import NotFound
from workflows.core.models import MEMBER_ID_MAX, ROLES, Conversation, DirectoryName, OutboxMessage, Person
from workflows.core.settings import Settings

COLUMNS = ("userid", "name", "role", "organization", "region")


@dataclass(frozen=True)
class RowProblem:
    """A roster line that cannot be imported."""

    line: int
    code: str
    detail: str


@dataclass(frozen=True)
class ImportResult:
    """What a roster import did (nothing at all when there are problems)."""

    created: int
    updated: int
    problems: tuple[RowProblem, ...]
    deactivated: tuple[str, ...] = ()
    role_changes: tuple[tuple[str, str, str], ...] = ()  # (userid, old role, new role)


def canonical_region(settings: Settings, value: str) -> str | None:
    """The configured region's name for a name or a code; None if it is not a configured region."""
    value = value.strip()
    for region in settings.award.regions:
        if value in (region.name, region.code):
            return region.name
    return None


def _unit_problem(settings: Settings, row: dict[str, str]) -> tuple[str, str] | None:
    """Canonicalize the row's region in place; the problem (code, detail) if its unit is not configured."""
    region = row["region"]
    if region:
        name = canonical_region(settings, region)
        if name is not None:
            row["region"] = name
            return None
        if region.isdigit() or row["role"] == "recommender":
            return "unknown_region", region
        return None  # an expert's or committee member's home city outside the edition's regions
    if row["role"] == "recommender" and row["organization"] not in settings.award.departments:
        return "unknown_unit", row["organization"]
    return None


def parse_roster(text: str, settings: Settings | None = None) -> tuple[list[dict[str, str]], list[RowProblem]]:
    """Parse roster CSV text into rows (regions canonical when `settings` is given), bad lines by number."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if header[: len(COLUMNS)] != list(COLUMNS):
        return [], [RowProblem(1, "bad_header", ",".join(header))]
    rows, problems, seen = [], [], {}
    for lineno, raw in enumerate(reader, start=2):
        row = {k: (raw.get(k) or "").strip() for k in COLUMNS}
        if not any(row.values()):
            continue
        unit = _unit_problem(settings, row) if settings is not None and row["role"] in ROLES else None
        if not row["userid"] or len(row["userid"]) > MEMBER_ID_MAX:
            problems.append(RowProblem(lineno, "bad_userid", row["userid"]))
        elif row["userid"] in access.RESERVED_ACTORS:
            problems.append(RowProblem(lineno, "reserved_userid", row["userid"]))
        elif not row["name"]:
            problems.append(RowProblem(lineno, "missing_name", row["userid"]))
        elif row["role"] not in ROLES:
            problems.append(RowProblem(lineno, "bad_role", row["role"]))
        elif row["userid"] in seen:
            problems.append(RowProblem(lineno, "duplicate_userid", f"{row['userid']} (line {seen[row['userid']]})"))
        elif unit is not None:
            problems.append(RowProblem(lineno, *unit))
        else:
            seen[row["userid"]] = lineno
            rows.append(row)
    return rows, problems


def absent_from(session: Session, rows: list[dict[str, str]]) -> list[Person]:
    """Active members who are not in `rows` (whom `--replace` would deactivate), by userid."""
    listed = {r["userid"] for r in rows}
    return [p for p in session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.userid))
            if p.userid not in listed]


def _leave(session: Session, person: Person, *, actor: str, now: dt.datetime, action: str, **details: object) -> None:
    """A member's powers change: end his current step (it belonged to his old role) and audit it."""
    conv = session.get(Conversation, person.userid)
    if conv is not None:
        session.delete(conv)
    audit.record(session, actor=actor, action=action, subject=f"person:{person.userid}", now=now, **details)


# Roles one person holds at a time: the expert group's leader (组长) and the committee's chair (主任).
SINGLE_HOLDER_ROLES = ("expert_leader", "committee_chair")


def second_holders(session: Session, text: str, rows: list[dict[str, str]], *,
                   replace: bool = False) -> list[RowProblem]:
    """A file that would leave two active holders of a one-person role (two in the file, or one in the file and
    another on the roster who keeps it): the line that makes the second, and who else holds it."""
    listed = {r["userid"] for r in rows}
    lines = {(raw.get("userid") or "").strip(): n
             for n, raw in enumerate(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))), start=2)}
    problems = []
    for role in SINGLE_HOLDER_ROLES:
        holders = [] if replace else [p.userid for p in session.scalars(
            select(Person).where(Person.active.is_(True), Person.role == role).order_by(Person.userid))
            if p.userid not in listed]
        for row in rows:
            if row["role"] == role:
                if holders:
                    problems.append(RowProblem(lines.get(row["userid"], 0), f"second_{role}",
                                               f"{row['userid']} (also {role}: {', '.join(holders)})"))
                holders.append(row["userid"])
    return problems


@access.guarded("roster.import")
def import_roster(session: Session, text: str, *, actor: str, now: dt.datetime, settings: Settings | None = None,
                  replace: bool = False) -> ImportResult:
    """Create or update roster members from CSV, all or nothing; `replace` deactivates everyone not in it."""
    rows, problems = parse_roster(text, settings)
    problems = problems or second_holders(session, text, rows, replace=replace)
    if problems:
        return ImportResult(0, 0, tuple(problems))
    created = updated = 0
    changes: list[tuple[str, str, str]] = []
    for row in rows:
        person = session.get(Person, row["userid"])
        if person is None:
            session.add(Person(**row, active=True, updated_at=now))
            created += 1
            continue
        if person.active and person.role != row["role"]:
            changes.append((person.userid, person.role, row["role"]))
            _leave(session, person, actor=actor, now=now, action="roster.role_changed", old=person.role,
                   new=row["role"])
        for k in ("name", "role", "organization", "region"):
            setattr(person, k, row[k])
        person.active, person.updated_at = True, now
        updated += 1
    gone: list[str] = []
    if replace:
        for person in absent_from(session, rows):
            person.active, person.updated_at = False, now
            _leave(session, person, actor=actor, now=now, action="roster.deactivated", role=person.role,
                   how="replace")
            gone.append(person.userid)
    audit.record(session, actor=actor, action="roster.import", now=now, created=created, updated=updated,
                 deactivated=len(gone), replace=replace)
    return ImportResult(created, updated, (), tuple(gone), tuple(changes))


@access.guarded("roster.remove")
def remove_member(session: Session, userid: str, *, actor: str, now: dt.datetime, reason: str = "") -> Person:
    """Deactivate one roster member: every power ends at once (chat words, cards, links); audited."""
    person = session.get(Person, userid)
    if person is None or not person.active:
        raise NotFound("not_on_roster", userid=userid)
    person.active, person.updated_at = False, now
    _leave(session, person, actor=actor, now=now, action="roster.deactivated", role=person.role, how="remove",
           reason=reason[:500])
    return person


@dataclass(frozen=True)
class Member:
    """A read-only snapshot of a roster member (what every callback needs to know of its sender)."""

    userid: str
    name: str
    role: str
    organization: str
    region: str


_MEMBER = (select(Person.userid, Person.name, Person.role, Person.organization, Person.region, Person.active)
           .where(Person.userid == bindparam("userid")))


def standing(session: Session, userid: str) -> tuple[Member | None, bool]:
    """(the active member as a snapshot or None, whether he is a removed member) in one cached Core query."""
    row = session.connection().execute(_MEMBER, {"userid": userid}).first()
    if row is None:
        return None, False
    return (Member(*row[:5]), False) if row.active else (None, True)


def member(session: Session, userid: str) -> Member | None:
    """The active roster member with this userid as a snapshot."""
    return standing(session, userid)[0]


def get(session: Session, userid: str) -> Person | None:
    """The active roster member with this userid, if any."""
    person = session.get(Person, userid)
    return person if person and person.active else None


def with_role(session: Session, *roles: str) -> list[Person]:
    """Active members with any of these roles, by userid."""
    return list(session.scalars(select(Person).where(Person.role.in_(roles), Person.active.is_(True))
                                .order_by(Person.userid)))


def directory_name(session: Session, userid: str, *, now: dt.datetime) -> str:
    """The member's WeCom name if known; the first time, queue a lookup (done by the sender, not here)."""
    row = session.get(DirectoryName, userid)
    if row is None:
        session.add(DirectoryName(userid=userid))
        due = queued_at(session, now)
        session.add(OutboxMessage(recipient=userid, kind="fetch.user", data={}, action="fetch_user",
                                  next_attempt_at=due, created_at=due))
        return ""
    return row.name if row.name and row.name != userid else ""


def remember_name(session: Session, userid: str, name: str, *, now: dt.datetime) -> None:
    """Store a name the directory returned (a "name" that is only the userid is no name: never greet by id)."""
    row = session.get(DirectoryName, userid) or DirectoryName(userid=userid)
    row.name, row.fetched_at = ("" if name.strip() == userid else name.strip()[:100]), now
    session.merge(row)
