"""Who owes what by when, and the exactly-once reminder sweep.

Each stage package contributes *obligation providers* (its ``obligations`` module): functions that
read the database and yield one ``Obligation`` per person who still owes something, with the
deadline that applies to them.  ``workflows.edition.PROVIDERS`` lists them by stage; the engine
takes that mapping as an argument (see docs/reminders.md).

``run_due`` turns obligations into reminders: for each obligation the *latest* configured offset
(7d, 3d, 1d, 2h, shifted out of quiet hours) whose time has come is claimed by inserting a
``ReminderSent`` row (unique edition × deadline_key × offset × recipient) and a notice is queued in the same
transaction.  Offsets missed while the scheduler was down are not sent in a burst: only the most
recent one goes out.  A changed deadline gives a new ``deadline_key``, hence new reminders.

Providers listed under ``ANY_STAGE`` are asked whatever the stages' states: the secretariat's own
milestones (``milestone``: the committee meeting, the call, the training, the verification report, the
approval) fall due whether or not anyone opened the stage; each provider says itself when it is done.
"""
from __future__ import annotations

import datetime as dt
import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows.core import audit, notices, people, stages
from workflows.core.dates import quiet_hours_shift
from workflows.core.models import DeadlineExtension, ReminderSent, StageState
from workflows.core.settings import STAGE_KEYS, Settings

UTC = dt.timezone.utc
ACTOR = "scheduler"
ANY_STAGE = "*"   # providers asked whatever the stages' states (the secretariat's milestones)
_CHUNK = 500  # rows per IN list / multi-row INSERT, well under every backend's parameter limit


@dataclass(frozen=True, eq=False)
class Obligation:
    """Something `recipient` owes for `stage` before `deadline`; `kind` names the reminder template.

    `deadline_key` identifies the deadline (and changes when it is extended); `data` must be
    JSON-serialisable (datetimes as ISO strings) because it is stored with the notice.
    `daily_since`: instead of the configured offsets, the obligation is reported once on every calendar day
    (award time zone) after that day until the deadline — for what must not wait unseen (an application at a
    unit with no recommender on the roster).
    """

    recipient: str
    stage: str
    deadline_key: str
    deadline: dt.datetime
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    daily_since: dt.datetime | None = None


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
Providers = Mapping[str, Sequence[Provider]]  # stage key -> its providers (workflows.edition.PROVIDERS)


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


def owed(session: Session, settings: Settings, providers: Providers) -> list[Obligation]:
    """Every obligation of every open stage."""
    result: list[Obligation] = []
    for stage in STAGE_KEYS:
        fns = providers.get(stage, ())
        if not fns or stages.status(session, settings, stage) != "open":
            continue  # nobody can act on a stage that is closed or not open yet (its opening tells them)
        for fn in fns:
            result.extend(fn(session, settings))
    for fn in providers.get(ANY_STAGE, ()):
        result.extend(fn(session, settings))
    return result


def milestone(session: Session, settings: Settings, stage: str, what: str, **data: Any) -> Iterator[Obligation]:
    """The secretariat owes `what` by `stage`'s deadline (each member of it is reminded), unless the stage was
    closed.  The caller yields this only while the milestone is not done."""
    if stages.status(session, settings, stage) == "closed":
        return
    deadline = stages.deadline(session, settings, stage)
    for p in people.with_role(session, "secretariat"):
        yield Obligation(recipient=p.userid, stage=stage, deadline_key=deadline_key(f"milestone-{what}", deadline),
                         deadline=deadline, kind="remind.milestone", data={"what": what, **data})


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


DAILY = "day:"  # the offset label of a daily report ("day:2018-11-02"), one per calendar day


def due_offset(settings: Settings, ob: Obligation, now: dt.datetime) -> tuple[str, dt.datetime] | None:
    """The offset of `ob` that is due at `now` (its most recent configured one, or today's daily report)."""
    if ob.daily_since is None:
        return current_offset(settings, ob.deadline, now)
    if now >= ob.deadline:
        return None
    tz = settings.award.tz
    day = now.astimezone(tz).date()
    if day <= ob.daily_since.astimezone(tz).date():
        return None   # the day it started waiting was told at once (by the action that made it wait)
    due = _shift(settings, dt.datetime.combine(day, dt.time(0), tzinfo=tz))
    return (f"{DAILY}{day.isoformat()}", due) if due <= now else None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one sweep. A sweep over 10,000 applications makes tens of
    thousands of objects that live until it ends, and the collector's full passes over them cost more than the
    work (measured: 7 s → 4 s for plan and queue). Reference counting still frees everything; the collector
    resumes afterwards on its usual thresholds."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def plan(session: Session, settings: Settings, *, now: dt.datetime, providers: Providers) -> list[Planned]:
    """The reminders that are due at `now` and not yet sent (one per obligation at most)."""
    with _collector_paused():
        return _plan(session, settings, now=now, providers=providers)


def _plan(session: Session, settings: Settings, *, now: dt.datetime, providers: Providers) -> list[Planned]:
    if is_quiet(settings, now):
        return []  # catch-ups wait for the morning
    by_deadline: dict[dt.datetime, tuple[str, dt.datetime] | None] = {}
    candidates: dict[tuple[str, str, str], Planned] = {}
    for ob in owed(session, settings, providers):
        if ob.daily_since is not None:
            hit = due_offset(settings, ob, now)
        else:
            if ob.deadline not in by_deadline:
                by_deadline[ob.deadline] = current_offset(settings, ob.deadline, now)
            hit = by_deadline[ob.deadline]
        if hit is not None:
            p = Planned(ob, hit[0], hit[1])
            candidates.setdefault(p.key, p)
    if not candidates:
        return []
    done = _already_sent(session, settings.award.edition_key, {k[0] for k in candidates})
    return [p for k, p in candidates.items() if k not in done]


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _already_sent(session: Session, edition: str, keys: set[str]) -> set[tuple[str, str, str]]:
    done: set[tuple[str, str, str]] = set()
    for chunk in _chunks(sorted(keys)):
        done.update(session.execute(select(ReminderSent.deadline_key, ReminderSent.offset, ReminderSent.recipient)
                                    .where(ReminderSent.edition == edition, ReminderSent.deadline_key.in_(chunk)))
                    .tuples())
    return done


def _claim(session: Session, edition: str, due: list[Planned], now: dt.datetime) -> set[tuple[str, str, str]]:
    """Insert the ReminderSent rows; return the keys this transaction actually got."""
    rows = [{"edition": edition, "deadline_key": p.key[0], "offset": p.key[1], "recipient": p.key[2], "due_at": p.due_at,
             "sent_at": now} for p in due]
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    got: set[tuple[str, str, str]] = set()
    if insert is not None:
        # A concurrent sweep that claimed a row first makes ours DO NOTHING: no row back, no notice.
        stmt = (insert(ReminderSent)
                .on_conflict_do_nothing(index_elements=["edition", "deadline_key", "offset", "recipient"])
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


OPENING = "open"  # the offset label of the notice sent when a stage opens


def announce_opening(session: Session, settings: Settings, stage: str, *, now: dt.datetime,
                     providers: Providers) -> list[str]:
    """Tell everyone who waited for `stage` and everyone who owes something in it that it opened; once each.

    Each obligation of the stage's providers is sent as its own reminder kind with `offset == "open"`
    (templates say "the stage has started" then), claimed like a reminder under the offset "open" so a
    second opening sends nothing twice; the offset that is already due is claimed too, so the next sweep
    does not repeat it. Waiters (`stages.promise_notice`) who owe nothing get `stage.opened`.
    Returns the members told.
    """
    obligations = [ob for fn in providers.get(stage, ()) for ob in fn(session, settings)]
    waiters = stages.waiting(session, settings, stage)
    words = {w.userid: w.word for w in waiters}
    opening = [Planned(ob, OPENING, now) for ob in obligations]
    current = [Planned(ob, *hit) for ob in obligations if (hit := due_offset(settings, ob, now))]
    claimed = _claim(session, settings.award.edition_key, opening + current, now)
    told: list[str] = []
    for p in opening:
        if p.key not in claimed:
            continue
        who = p.obligation.recipient
        notices.notify(session, who, p.obligation.kind, now=now, **message_data(settings, p, now),
                       waited=who in words, word=words.get(who, ""))
        told.append(who)
    deadline = stages.deadline(session, settings, stage)
    for w in waiters:
        if w.userid not in told:
            notices.notify(session, w.userid, "stage.opened", now=now, stage=stage,
                           stage_name=settings.award.stage(stage).name, deadline=deadline, word=w.word)
            told.append(w.userid)
        w.notified_at = now
    if told:
        audit.record(session, actor=ACTOR, action="stage.announced", subject=f"stage:{stage}", now=now,
                     recipients=len(set(told)), obligations=len([p for p in opening if p.key in claimed]),
                     waiters=len(waiters))
    return list(dict.fromkeys(told))


def run_due(session: Session, settings: Settings, *, now: dt.datetime, providers: Providers,
            dry_run: bool = False, actor: str = ACTOR) -> list[Planned]:
    """Claim and queue every reminder due at `now`, each exactly once; return what was (or would be) sent."""
    with _collector_paused():
        return _run_due(session, settings, now=now, providers=providers, dry_run=dry_run, actor=actor)


def _run_due(session: Session, settings: Settings, *, now: dt.datetime, providers: Providers,
             dry_run: bool, actor: str) -> list[Planned]:
    due = plan(session, settings, now=now, providers=providers)
    if dry_run or not due:
        return due
    claimed = _claim(session, settings.award.edition_key, due, now)
    sent = [p for p in due if p.key in claimed]
    notices.notify_many(session, ((p.obligation.recipient, p.obligation.kind, message_data(settings, p, now))
                                  for p in sent), now=now)
    if sent:
        audit.record(session, actor=actor, action="reminders.sent", now=now, count=len(sent),
                     kinds=dict(Counter(p.obligation.kind for p in sent)))
    return sent
