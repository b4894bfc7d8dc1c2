"""Who owes what by when, and the exactly-once reminder sweep.

Each stage contributes *obligation providers*: functions decorated with ``@obligations(stage)``
that read the database and yield one ``Obligation`` per person who still owes something, with
the deadline that applies to them.  Any module under ``workflows/`` may register providers; they
are discovered on the first sweep (see docs/reminders.md).

``run_due`` turns obligations into reminders: for each obligation the *latest* configured offset
(7d, 3d, 1d, 2h, shifted out of quiet hours) whose time has come is claimed by inserting a
``ReminderSent`` row (unique deadline_key × offset × recipient) and a notice is queued in the same
transaction.  Offsets missed while the scheduler was down are not sent in a burst: only the most
recent one goes out.  A changed deadline gives a new ``deadline_key``, hence new reminders.
"""
from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, notices, stages
from .completeness import Receipt, checklist, material_items
from .model import AppStatus, Application, DeadlineExtension, Document, Person, ReminderSent, StageState
from .publicity_window import quiet_hours_shift
from .settings import STAGE_KEYS, Settings

UTC = dt.timezone.utc
ACTOR = "scheduler"
_CHUNK = 500  # rows per IN list / multi-row INSERT, well under every backend's parameter limit


@dataclass(frozen=True, eq=False)
class Obligation:
    """Something `recipient` owes for `stage` before `deadline`; `kind` names the reminder template.

    `deadline_key` identifies the deadline (and changes when it is extended); `data` must be
    JSON-serialisable (datetimes as ISO strings) because it is stored with the notice.
    """

    recipient: str
    stage: str
    deadline_key: str
    deadline: dt.datetime
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Planned:
    """A reminder due now: the obligation, the offset it answers and when that offset fell due."""

    obligation: Obligation
    offset: str
    due_at: dt.datetime

    @property
    def key(self) -> tuple[str, str, str]:
        """The unique claim key (deadline_key, offset, recipient)."""
        return (self.obligation.deadline_key, self.offset, self.obligation.recipient)


Provider = Callable[[Session, Settings], Iterable[Obligation]]
_PROVIDERS: dict[str, dict[str, Provider]] = {}
_discovered = False


def obligations(stage: str) -> Callable[[Provider], Provider]:
    """Register a provider of the obligations of one stage (decorator)."""
    if stage not in STAGE_KEYS:
        raise ValueError(f"unknown stage {stage!r}")

    def register(fn: Provider) -> Provider:
        # Keyed by qualified name so a re-imported module does not register twice.
        _PROVIDERS.setdefault(stage, {})[f"{fn.__module__}.{fn.__qualname__}"] = fn
        return fn
    return register


def discover() -> None:
    """Import every top-level module of `workflows` once, so their providers register."""
    global _discovered
    if _discovered:
        return
    package = importlib.import_module(__package__ or "workflows")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    _discovered = True


def providers() -> dict[str, list[Provider]]:
    """Registered providers by stage, in stage order."""
    discover()
    return {s: list(_PROVIDERS[s].values()) for s in STAGE_KEYS if _PROVIDERS.get(s)}


def deadline_key(prefix: str, deadline: dt.datetime, *parts: object) -> str:
    """A reminder key such as 'apply:2018-11-15T15:59:59Z' or 'supplement:12:2018-11-22T15:59:59Z'."""
    stamp = deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ":".join([prefix, *(str(p) for p in parts), stamp])


def deadlines_by_subject(session: Session, settings: Settings, stage: str,
                         subjects: Iterable[str]) -> dict[str, dt.datetime]:
    """Each subject's effective deadline for a stage in two queries (bulk form of stages.deadline)."""
    row = session.get(StageState, (settings.award.edition_key, stage))
    base = row.deadline if row and row.deadline else settings.award.stage(stage).deadline
    latest: dict[str, dt.datetime] = {}
    for subject, when in session.execute(
            select(DeadlineExtension.subject, DeadlineExtension.deadline)
            .where(DeadlineExtension.edition == settings.award.edition_key, DeadlineExtension.stage == stage)
            .order_by(DeadlineExtension.id)):
        latest[subject] = when  # the newest extension wins, as in stages.deadline
    return {s: latest[s] if s in latest and latest[s] > base else base for s in subjects}


def owed(session: Session, settings: Settings) -> list[Obligation]:
    """Every obligation of every stage that is not closed."""
    result: list[Obligation] = []
    for stage, fns in providers().items():
        if stages.status(session, settings, stage) == "closed":
            continue  # nobody can act on a closed stage any more
        for fn in fns:
            result.extend(fn(session, settings))
    return result


def _shift(settings: Settings, when: dt.datetime) -> dt.datetime:
    r = settings.award.reminders
    return quiet_hours_shift(when, tz=settings.award.tz, start=r.quiet_start, end=r.quiet_end,
                             resume=r.quiet_resume)


def is_quiet(settings: Settings, now: dt.datetime) -> bool:
    """Whether `now` falls in the configured quiet hours (no reminder is sent then)."""
    return _shift(settings, now) != now


def schedule(settings: Settings, deadline: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """The reminder times for a deadline: (offset, quiet-shifted due time), earliest first."""
    out = []
    for label, delta in settings.award.reminders.offset_deltas():
        due = _shift(settings, deadline - delta)
        if due < deadline:  # a reminder pushed past the deadline by quiet hours is dropped
            out.append((label, due))
    return sorted(out, key=lambda p: p[1])


def current_offset(settings: Settings, deadline: dt.datetime, now: dt.datetime) -> tuple[str, dt.datetime] | None:
    """The most recent offset whose time has come before the deadline, or None."""
    if now >= deadline:
        return None
    hits = [p for p in schedule(settings, deadline) if p[1] <= now]
    return hits[-1] if hits else None


def plan(session: Session, settings: Settings, *, now: dt.datetime) -> list[Planned]:
    """The reminders that are due at `now` and not yet sent (one per obligation at most)."""
    if is_quiet(settings, now):
        return []  # catch-ups wait for the morning
    by_deadline: dict[dt.datetime, tuple[str, dt.datetime] | None] = {}
    candidates: dict[tuple[str, str, str], Planned] = {}
    for ob in owed(session, settings):
        if ob.deadline not in by_deadline:
            by_deadline[ob.deadline] = current_offset(settings, ob.deadline, now)
        hit = by_deadline[ob.deadline]
        if hit is not None:
            p = Planned(ob, hit[0], hit[1])
            candidates.setdefault(p.key, p)
    if not candidates:
        return []
    done = _already_sent(session, {k[0] for k in candidates})
    return [p for k, p in candidates.items() if k not in done]


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _already_sent(session: Session, keys: set[str]) -> set[tuple[str, str, str]]:
    done: set[tuple[str, str, str]] = set()
    for chunk in _chunks(sorted(keys)):
        done.update(session.execute(select(ReminderSent.deadline_key, ReminderSent.offset, ReminderSent.recipient)
                                    .where(ReminderSent.deadline_key.in_(chunk))).tuples())
    return done


def _claim(session: Session, due: list[Planned], now: dt.datetime) -> set[tuple[str, str, str]]:
    """Insert the ReminderSent rows; return the keys this transaction actually got."""
    rows = [{"deadline_key": p.key[0], "offset": p.key[1], "recipient": p.key[2], "due_at": p.due_at,
             "sent_at": now} for p in due]
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    got: set[tuple[str, str, str]] = set()
    if insert is not None:
        # A concurrent sweep that claimed a row first makes ours DO NOTHING: no row back, no notice.
        stmt = (insert(ReminderSent)
                .on_conflict_do_nothing(index_elements=["deadline_key", "offset", "recipient"])
                .returning(ReminderSent.deadline_key, ReminderSent.offset, ReminderSent.recipient))
        for chunk in _chunks(rows):
            got.update(session.execute(stmt, chunk).tuples())
        return got
    for row in rows:  # other backends: one savepoint per claim
        try:
            with session.begin_nested():
                session.add(ReminderSent(**row))
        except IntegrityError:
            continue
        got.add((row["deadline_key"], row["offset"], row["recipient"]))
    return got


def message_data(settings: Settings, p: Planned, now: dt.datetime) -> dict[str, Any]:
    """What a reminder template receives: the provider's data plus stage, deadline and time left."""
    ob = p.obligation
    return {**ob.data, "stage": ob.stage, "stage_name": settings.award.stage(ob.stage).name,
            "deadline": ob.deadline.astimezone(UTC).isoformat(), "offset": p.offset,
            "hours_left": int((ob.deadline - now).total_seconds() // 3600)}


def run_due(session: Session, settings: Settings, *, now: dt.datetime, dry_run: bool = False,
            actor: str = ACTOR) -> list[Planned]:
    """Claim and queue every reminder due at `now`, each exactly once; return what was (or would be) sent."""
    due = plan(session, settings, now=now)
    if dry_run or not due:
        return due
    claimed = _claim(session, due, now)
    sent = [p for p in due if p.key in claimed]
    for p in sent:
        notices.notify(session, p.obligation.recipient, p.obligation.kind, now=now,
                       **message_data(settings, p, now))
    if sent:
        audit.record(session, actor=actor, action="reminders.sent", now=now, count=len(sent),
                     kinds=dict(Counter(p.obligation.kind for p in sent)))
    return sent


# --- Providers for the application stage (申报推荐) -------------------------------------------

_RECEIVED = {"received", "accepted"}


def _receipts(session: Session, edition: str, statuses: list[str]) -> dict[int, list[Receipt]]:
    """Every document of the matching applications, as receipts in upload order (one query)."""
    out: dict[int, list[Receipt]] = defaultdict(list)
    q = (select(Document.application_id, Document.item_key, Document.status, Document.reason)
         .join(Application, Application.id == Document.application_id)
         .where(Application.edition == edition, Application.status.in_(statuses))
         .order_by(Document.id))
    for app_id, key, status, reason in session.execute(q):
        if status in _RECEIVED:
            out[app_id].append(Receipt(key, "received"))
        elif status == "rejected":
            out[app_id].append(Receipt(key, "rejected", reason))
        # other statuses (e.g. superseded) do not count either way
    return out


@obligations("apply")
def unfinished_applications(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Applicants whose application is a draft or was returned: what is missing, and submit."""
    edition = settings.award.edition_key
    statuses = [AppStatus.DRAFT.value, AppStatus.RETURNED.value]
    apps = session.execute(select(Application.id, Application.applicant, Application.status,
                                  Application.enterprise_name, Application.number)
                           .where(Application.edition == edition, Application.status.in_(statuses))
                           .order_by(Application.id)).all()
    if not apps:
        return
    items = material_items(settings)
    names = {i.key: i.name for i in items}
    receipts = _receipts(session, edition, statuses)
    deadlines = deadlines_by_subject(session, settings, "apply", [f"application:{a.id}" for a in apps])
    for a in apps:
        cl = checklist(items, receipts.get(a.id, []))
        rejected = {e.key: e.reason for e in cl.entries if e.state == "rejected"}
        deadline = deadlines[f"application:{a.id}"]
        yield Obligation(
            recipient=a.applicant, stage="apply", deadline_key=deadline_key("apply", deadline), deadline=deadline,
            kind="remind.apply",
            data={"application_id": a.id, "enterprise_name": a.enterprise_name or "", "number": a.number or "",
                  "returned": a.status == AppStatus.RETURNED,
                  "missing": [{"key": k, "name": names[k], "reason": rejected.get(k)} for k in cl.missing_required]})


@obligations("apply")
def recommenders_awaiting_opinion(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Recommending units with submitted applications of their region or department and no opinion yet."""
    edition = settings.award.edition_key
    apps = session.execute(select(Application.id, Application.enterprise_name, Application.number,
                                  Application.region_code, Application.department, Application.submitted_at)
                           .where(Application.edition == edition, Application.status == AppStatus.SUBMITTED.value)
                           .order_by(Application.id)).all()
    if not apps:
        return
    by_unit: dict[str, set[str]] = defaultdict(set)  # region name/code or organisation -> userids
    for userid, region, org in session.execute(select(Person.userid, Person.region, Person.organization)
                                               .where(Person.role == "recommender", Person.active.is_(True))):
        for unit in (region, org):
            if unit:
                by_unit[unit].add(userid)
    region_names = {r.code: r.name for r in settings.award.regions}
    deadlines = deadlines_by_subject(session, settings, "apply", [f"application:{a.id}" for a in apps])
    pending: dict[tuple[str, dt.datetime], list[dict[str, Any]]] = defaultdict(list)
    for a in apps:
        who: set[str] = set()
        if a.region_code:
            who |= by_unit.get(region_names.get(a.region_code, a.region_code), set()) | by_unit.get(a.region_code, set())
        if a.department:
            who |= by_unit.get(a.department, set())
        entry = {"application_id": a.id, "enterprise_name": a.enterprise_name or "", "number": a.number or "",
                 "submitted_at": a.submitted_at.astimezone(UTC).isoformat() if a.submitted_at else None}
        for userid in who:
            pending[(userid, deadlines[f"application:{a.id}"])].append(entry)
    for (userid, deadline), entries in sorted(pending.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        yield Obligation(recipient=userid, stage="apply", deadline_key=deadline_key("recommend", deadline),
                         deadline=deadline, kind="remind.recommend",
                         data={"applications": entries, "count": len(entries)})
