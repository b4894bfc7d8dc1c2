"""The provincial pool (省政府质量奖评审专家库) as imported for an edition: parsing, the draw's order and exclusions.

The pool is imported from a CSV (`import_pool`): name, organisation, region, specialty, contact — the province's
list of experts, who need not be WeCom members. An optional `userid` column names an expert already on the roster;
an optional `conflict` column carries a conflict the expert declared. Every line is checked; one bad line refuses
the whole file.

Each entry's draw key (what the HMAC ranks) comes from the file alone: its `userid` when the line gives one,
otherwise `姓名|单位` (the name and organisation as written, trimmed). A drawn expert who is not yet a member is
"drawn, not yet reachable" until the secretariat enrols him (draw.enrol / roster import).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflows.apply.models import AppStatus, Application
from workflows.core import access, audit
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.core.models import MEMBER_ID_MAX, Person
from workflows.core.settings import Settings
from workflows.scoring.draw_models import ExpertDraw, PanelMember, PoolEntry
from workflows.scoring.models import ConflictDeclaration

COLUMNS = ("name", "organisation", "region", "specialty", "contact")
OPTIONAL = ("userid", "conflict")
EXPERT_ROLES = ("expert", "expert_leader")
NOT_APPLICANTS = (AppStatus.DRAFT, AppStatus.INELIGIBLE)
LEADER = "leader"                   # the panel row of the engaged 组长 (kind), position 0
LIVE = ("asked", "accepted")        # a panel member who holds his place
UNREACHABLE = "unreachable"         # drawn (or a reserve called up), not yet a roster member: enrol him first
KEY_MAX = 320


@dataclass(frozen=True)
class PoolProblem:
    """A pool line that cannot be imported."""

    line: int
    code: str
    detail: str = ""


# -- the pure part: anyone can re-run it -------------------------------------------------------------------

def rank(seed: str, keys: list[str]) -> list[str]:
    """The keys ordered by HMAC-SHA256(seed, key) (hex, ascending), ties by key: the draw's order."""
    secret = seed.encode("utf-8")
    return sorted(keys, key=lambda k: (hmac.new(secret, k.encode("utf-8"), hashlib.sha256).hexdigest(), k))


def digest(entries: list[PoolEntry]) -> str:
    """SHA-256 of the pool as drawn from: one line per entry, sorted by draw key (contact and userid left out)."""
    lines = sorted("\t".join((e.draw_key, e.name, e.organization, e.region, e.specialty, e.conflict)) for e in entries)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _norm(value: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", value or "").split()).casefold()


def draw_key(name: str, organisation: str, userid: str = "") -> str:
    """The key the draw ranks: the line's userid if it gives one, else `name|organisation` (trimmed)."""
    return userid.strip() or f"{name.strip()}|{organisation.strip()}"


# -- the pool -----------------------------------------------------------------------------------------------

def parse_pool(text: str, roster: dict[str, Person]) -> tuple[list[dict[str, str]], list[PoolProblem]]:
    """Rows of a pool CSV and every bad line by number (line 1 is the header)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [PoolProblem(1, "pool_bad_header", ",".join(missing))]
    reader.fieldnames = header
    rows, problems, seen, who = [], [], {}, {}
    for lineno, raw in enumerate(reader, start=2):
        row = {k: (raw.get(k) or "").strip() for k in COLUMNS + OPTIONAL}
        if not any(row.values()):
            continue
        person = roster.get(row["userid"])
        same = who.get((_norm(row["name"]), _norm(row["organisation"])))
        if not row["name"]:
            problems.append(PoolProblem(lineno, "pool_missing_name"))
        elif not row["organisation"]:
            problems.append(PoolProblem(lineno, "pool_missing_organisation", row["name"]))
        elif not row["contact"]:
            problems.append(PoolProblem(lineno, "pool_missing_contact", row["name"]))
        elif len(row["userid"]) > MEMBER_ID_MAX:
            problems.append(PoolProblem(lineno, "pool_bad_userid", row["name"]))
        elif row["userid"] and row["userid"] in seen:
            problems.append(PoolProblem(lineno, "pool_duplicate", f"{row['userid']} (line {seen[row['userid']]})"))
        elif same is not None:
            problems.append(PoolProblem(lineno, "pool_duplicate", f"{row['name']} {row['organisation']} (line {same})"))
        elif row["userid"] and (person is None or not person.active or person.role not in EXPERT_ROLES):
            problems.append(PoolProblem(lineno, "pool_not_expert", row["userid"]))
        elif len(row["name"]) > 100 or len(row["organisation"]) > 200 or len(row["contact"]) > 100 \
                or len(row["region"]) > 100 or len(row["specialty"]) > 200:
            problems.append(PoolProblem(lineno, "pool_too_long", row["name"]))
        else:
            seen[row["userid"]] = lineno
            who[(_norm(row["name"]), _norm(row["organisation"]))] = lineno
            rows.append({**row, "line": str(lineno), "key": draw_key(row["name"], row["organisation"], row["userid"])})
    if not rows and not problems:
        problems.append(PoolProblem(1, "pool_empty"))
    return rows, problems


def pool(session: Session, settings: Settings) -> list[PoolEntry]:
    """The edition's pool, by draw key."""
    return list(session.scalars(select(PoolEntry).where(PoolEntry.edition == settings.award.edition_key)
                                .order_by(PoolEntry.draw_key)))


def leader_member(session: Session, settings: Settings) -> PanelMember | None:
    """The engaged leader's panel row (asked or accepted), if a leader is engaged."""
    return session.scalar(select(PanelMember).where(PanelMember.edition == settings.award.edition_key,
                                                    PanelMember.kind == LEADER, PanelMember.status.in_(LIVE)))


def recorded(session: Session, settings: Settings) -> ExpertDraw | None:
    """The edition's draw, if it was made."""
    return session.scalar(select(ExpertDraw).where(ExpertDraw.edition == settings.award.edition_key))


@access.guarded("experts.pool")
def import_pool(session: Session, settings: Settings, *, actor: str, now: dt.datetime, text: str) -> list[PoolEntry]:
    """Replace the edition's pool with the CSV's lines, all or nothing; refused after the draw; audited."""
    if recorded(session, settings) is not None:
        raise AlreadyDone("pool_locked")
    roster = {p.userid: p for p in session.scalars(select(Person))}
    rows, problems = parse_pool(text, roster)
    if problems:
        raise InvalidInput("pool_invalid", problems=[{"line": p.line, "code": p.code, "detail": p.detail}
                                                     for p in problems])
    edition = settings.award.edition_key
    session.execute(delete(PoolEntry).where(PoolEntry.edition == edition))
    entries = [PoolEntry(edition=edition, draw_key=r["key"], userid=r["userid"] or None, name=r["name"], organization=r["organisation"],
                         region=r["region"], specialty=r["specialty"], contact=r["contact"], conflict=r["conflict"],
                         line=int(r["line"]), imported_by=actor, imported_at=now) for r in rows]
    session.add_all(entries)
    session.flush()
    audit.record(session, actor=actor, action="draw.pool_import", subject=f"edition:{edition}", now=now,
                 entries=len(entries), digest=digest(entries))
    return entries


def exclusions(session: Session, settings: Settings, entries: list[PoolEntry]) -> dict[str, list[str]]:
    """Why each excluded entry may not be drawn (draw key -> reasons); eligible entries are absent."""
    edition = settings.award.edition_key
    applicants = {_norm(n) for n in session.scalars(select(Application.enterprise_name).where(
        Application.edition == edition, Application.status.not_in(NOT_APPLICANTS))) if _norm(n)}
    declared = set(session.scalars(select(ConflictDeclaration.expert).where(ConflictDeclaration.edition == edition)))
    roster = {p.userid: p for p in session.scalars(select(Person).where(
        Person.userid.in_([e.userid for e in entries if e.userid] or [""])))}
    engaged = leader_member(session, settings)
    leader = session.get(Person, engaged.userid) if engaged is not None else None
    result: dict[str, list[str]] = {}
    for e in entries:
        reasons = []
        if leader is not None and ((e.userid and e.userid == leader.userid) or (
                _norm(e.name) == _norm(leader.name) and _norm(e.organization) == _norm(leader.organization))):
            reasons.append("engaged_leader")   # engaged apart from the draw: not drawn a second time
        if _norm(e.organization) in applicants:
            reasons.append("applicant_organization")
        if e.conflict:
            reasons.append("declared_in_pool")
        if e.userid and e.userid in declared:
            reasons.append("declared_conflict")
        person = roster.get(e.userid) if e.userid else None
        if e.userid and (person is None or not person.active or person.role not in EXPERT_ROLES):
            reasons.append("not_on_roster")   # named a member who left the roster (or the experts) since
        if reasons:
            result[e.draw_key] = reasons
    return result
