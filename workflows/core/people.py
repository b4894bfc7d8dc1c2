"""The roster: who is secretariat, recommender, expert, committee member."""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflows.core import access, audit
from workflows.core.models import ROLES, DirectoryName, OutboxMessage, Person

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


def parse_roster(text: str) -> tuple[list[dict[str, str]], list[RowProblem]]:
    """Parse roster CSV text into rows, reporting bad lines by number."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if header[: len(COLUMNS)] != list(COLUMNS):
        return [], [RowProblem(1, "bad_header", ",".join(header))]
    rows, problems, seen = [], [], {}
    for lineno, raw in enumerate(reader, start=2):
        row = {k: (raw.get(k) or "").strip() for k in COLUMNS}
        if not any(row.values()):
            continue
        if not row["userid"] or len(row["userid"]) > 64:
            problems.append(RowProblem(lineno, "bad_userid", row["userid"]))
        elif row["userid"] in access.SYSTEM_ACTORS:
            problems.append(RowProblem(lineno, "reserved_userid", row["userid"]))
        elif not row["name"]:
            problems.append(RowProblem(lineno, "missing_name", row["userid"]))
        elif row["role"] not in ROLES:
            problems.append(RowProblem(lineno, "bad_role", row["role"]))
        elif row["userid"] in seen:
            problems.append(RowProblem(lineno, "duplicate_userid", f"{row['userid']} (line {seen[row['userid']]})"))
        else:
            seen[row["userid"]] = lineno
            rows.append(row)
    return rows, problems


@access.guarded("roster.import")
def import_roster(session: Session, text: str, *, actor: str, now: dt.datetime) -> ImportResult:
    """Create or update roster members from CSV; all or nothing."""
    rows, problems = parse_roster(text)
    if problems:
        return ImportResult(0, 0, tuple(problems))
    created = updated = 0
    for row in rows:
        person = session.get(Person, row["userid"])
        if person is None:
            session.add(Person(**row, active=True, updated_at=now))
            created += 1
        else:
            for k in ("name", "role", "organization", "region"):
                setattr(person, k, row[k])
            person.active, person.updated_at = True, now
            updated += 1
    audit.record(session, actor=actor, action="roster.import", now=now, created=created, updated=updated)
    return ImportResult(created, updated, ())


@dataclass(frozen=True)
class Member:
    """A read-only snapshot of a roster member (what every callback needs to know of its sender)."""

    userid: str
    name: str
    role: str
    organization: str
    region: str


_MEMBER = (select(Person.userid, Person.name, Person.role, Person.organization, Person.region)
           .where(Person.userid == bindparam("userid"), Person.active.is_(True)))


def member(session: Session, userid: str) -> Member | None:
    """The active roster member with this userid as a snapshot (one cached Core query)."""
    row = session.connection().execute(_MEMBER, {"userid": userid}).first()
    return Member(*row) if row else None


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
        session.add(OutboxMessage(recipient=userid, kind="fetch.user", data={}, action="fetch_user",
                                  next_attempt_at=now, created_at=now))
        return ""
    return row.name or ""


def remember_name(session: Session, userid: str, name: str, *, now: dt.datetime) -> None:
    """Store a name the directory returned."""
    row = session.get(DirectoryName, userid) or DirectoryName(userid=userid)
    row.name, row.fetched_at = name[:100], now
    session.merge(row)
