"""Score sheets: draft, enter items (one by one or the whole sheet), confirm and lock, revise, reopen.

Validation is workflows.scoresheet's; the rubric is configuration, built in `configured_rubric()` only.
A confirmed sheet is locked; its expert may revise it until the stage deadline, after which only
the expert-group leader can reopen it (for `award.rules.reopen_days`, audited).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, notices, people, stages
from workflows.core.cells import text_row
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.scoring.experts import (
    EXPERT_ROLES,
    assigned_to,
    assignments,
    check_phase,
    find_application,
    require_assigned,
)
from workflows.apply.models import Application
from workflows.scoring.comments import REASON_MAX as COMMENT_REASON_MAX, TEXT_MAX, missing_reasons
from workflows.scoring.models import ScoreSheet
from workflows.scoring.results import flag_disagreement
from workflows.scoring.rubric import Category, Rubric, RubricItem
from workflows.scoring.scoresheet import (
    EntryCode,
    EntryError,
    SheetEntry,
    SheetScore,
    band_of,
    decimal_text,
    item_points,
    parse_item_value,
    points_text,
    parse_sheet,
    subtotals,
)
from workflows.core.settings import Settings


def configured_rubric(settings: Settings) -> Rubric:
    """The configured rubric (the one place config becomes a workflows.rubric.Rubric)."""
    conf = settings.award.rubric
    categories = tuple(Category(c.key, c.name, c.max, c.process) for c in conf.categories)
    items = tuple(RubricItem(i.key, c.key, i.name, i.max) for c in conf.categories for i in c.items)
    # A category without sub-items is scored as one item of the category's maximum.
    items += tuple(RubricItem(c.key, c.key, c.name, c.max) for c in conf.categories if not c.items)
    order = {c.key: n for n, c in enumerate(conf.categories)}
    items = tuple(sorted(items, key=lambda i: order[i.category]))
    return Rubric(categories, items, tuple(tuple(b) for b in conf.bands), conf.step_percent)


def sheet_subject(application_id: int, expert: str) -> str:
    """The deadline-extension subject of one expert's sheet (used when the leader reopens it)."""
    return f"sheet:{application_id}:{expert}"


def score_of(settings: Settings, sheet: ScoreSheet) -> SheetScore:
    """Exact category subtotals and total of a complete sheet."""
    return subtotals(configured_rubric(settings), {k: int(v) for k, v in sheet.percentages.items()})


def running_total(settings: Settings, sheet: ScoreSheet) -> Fraction:
    """Exact points of the items entered so far (the total of a complete sheet)."""
    rb = configured_rubric(settings)
    return sum((item_points(i.max_points, int(sheet.percentages[i.key])) for i in rb.items
                if i.key in sheet.percentages), Fraction(0))


def recorded(settings: Settings, sheet: ScoreSheet, keys: list[str]) -> list[dict]:
    """What was recorded for these items, to echo back: item, percentage, points (two decimals), and the
    GB/Z 19579 band the percentage lies in (1-based, with its bounds)."""
    rb = configured_rubric(settings)
    out = []
    for key in keys:
        item, percent = rb.item(key), int(sheet.percentages[key])
        band = band_of(percent, rb.bands)
        out.append({"key": key, "name": item.name, "max": item.max_points, "percent": percent,
                    "points": points_text(item_points(item.max_points, percent)),
                    "band": band + 1, "band_low": rb.bands[band][0], "band_high": rb.bands[band][1]})
    return out


def missing_items(settings: Settings, sheet: ScoreSheet) -> list[str]:
    """Rubric items the sheet has no value for yet, in rubric order."""
    return [k for k in configured_rubric(settings).item_keys if k not in sheet.percentages]


def _get(session: Session, phase: str, application_id: int, expert: str) -> ScoreSheet | None:
    return session.scalar(select(ScoreSheet).where(ScoreSheet.phase == phase, ScoreSheet.expert == expert,
                                                   ScoreSheet.application_id == application_id))


def _gate(session: Session, settings: Settings, phase: str, app_id: int, expert: str, now: dt.datetime) -> dt.datetime:
    return stages.require_open(session, settings, phase, now=now, subject=sheet_subject(app_id, expert))


@access.guarded("scoring.score")
def open_sheet(session: Session, settings: Settings, *, actor: str, now: dt.datetime, phase: str,
               number: str) -> ScoreSheet:
    """The expert's sheet for an assigned application (a new draft if none); stage must be open."""
    check_phase(phase)
    app = require_assigned(session, settings, actor, number, phase)
    _gate(session, settings, phase, app.id, actor, now)
    sheet = _get(session, phase, app.id, actor)
    if sheet is None:
        sheet = ScoreSheet(edition=app.edition, phase=phase, application_id=app.id, expert=actor, status="draft", percentages={},
                           comments={}, source="chat", created_at=now, updated_at=now)
        session.add(sheet)
        session.flush()
    return sheet


def _own_draft(session: Session, settings: Settings, actor: str, sheet_id: int, now: dt.datetime) -> ScoreSheet:
    sheet = session.get(ScoreSheet, sheet_id)
    if sheet is None or sheet.expert != actor or sheet.edition != settings.award.edition_key:
        raise NotFound("sheet_not_found")
    _gate(session, settings, sheet.phase, sheet.application_id, actor, now)
    if sheet.status == "confirmed":
        raise AlreadyDone("sheet_locked", number=session.get(Application, sheet.application_id).number)
    return sheet


@access.guarded("scoring.score")
def set_item(session: Session, settings: Settings, *, actor: str, now: dt.datetime, sheet_id: int,
             item_key: str, raw: str) -> int | EntryError:
    """Record one item's value (percentage or points); an invalid value is returned and changes nothing."""
    sheet = _own_draft(session, settings, actor, sheet_id, now)
    item = configured_rubric(settings).item(item_key)
    if item is None:
        return EntryError(item_key, EntryCode.UNKNOWN_ITEM, {"raw": raw})
    result = parse_item_value(item, raw, configured_rubric(settings).step)
    if isinstance(result, int):
        sheet.percentages = {**sheet.percentages, item.key: result}
        sheet.updated_at = now
    return result


@access.guarded("scoring.score")
def enter_sheet(session: Session, settings: Settings, *, actor: str, now: dt.datetime, sheet_id: int,
                text: str) -> SheetEntry:
    """Record every valid entry of a whole-sheet message ("4.1.2=60% …"); invalid ones are returned."""
    sheet = _own_draft(session, settings, actor, sheet_id, now)
    entry = parse_sheet(configured_rubric(settings), text)
    if entry.percentages:
        sheet.percentages = {**sheet.percentages, **entry.percentages}
        sheet.updated_at = now
    return entry


@access.guarded("scoring.score")
def set_comments(session: Session, settings: Settings, *, actor: str, now: dt.datetime, sheet_id: int,
                 comments: dict[str, dict[str, str]]) -> ScoreSheet:
    """Store strengths/opportunities per GB/T 19580 item (or per category) — {key: {strengths, opportunities}}."""
    sheet = _own_draft(session, settings, actor, sheet_id, now)
    rb = configured_rubric(settings)
    unknown = sorted(set(comments) - {c.key for c in rb.categories} - set(rb.item_keys))
    if unknown:
        raise InvalidInput("unknown_category", categories=unknown)
    cleaned = {k: {"strengths": str(v.get("strengths") or "").strip()[:TEXT_MAX],
                   "opportunities": str(v.get("opportunities") or "").strip()[:TEXT_MAX]} for k, v in comments.items()}
    merged = {**sheet.comments, **cleaned}
    sheet.comments = {k: v for k, v in merged.items() if v.get("strengths") or v.get("opportunities")}
    sheet.updated_at = now
    return sheet


@access.guarded("scoring.score")
def set_reason(session: Session, settings: Settings, *, actor: str, now: dt.datetime, sheet_id: int,
               item_key: str, reason: str) -> ScoreSheet:
    """Record why an item's score lies far from the other experts' (comments.outliers); required before a chat
    sheet with such an item is confirmed."""
    sheet = _own_draft(session, settings, actor, sheet_id, now)
    if item_key not in sheet.percentages:
        raise InvalidInput("unknown_category", categories=[item_key])
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("reason_required")
    if len(reason) > COMMENT_REASON_MAX:
        raise InvalidInput("reason_too_long", max=COMMENT_REASON_MAX, length=len(reason))
    sheet.reasons = {**(sheet.reasons or {}), item_key: reason}
    sheet.updated_at = now
    return sheet


@access.guarded("scoring.score")
def confirm_sheet(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                  sheet_id: int) -> ScoreSheet:
    """Lock a complete sheet with its total; audited; flags a disagreement once all sheets are in."""
    sheet = _own_draft(session, settings, actor, sheet_id, now)
    _lock(session, settings, sheet, actor=actor, now=now)
    return sheet


def _lock(session: Session, settings: Settings, sheet: ScoreSheet, *, actor: str, now: dt.datetime) -> None:
    missing = missing_items(settings, sheet)
    if missing:
        raise InvalidInput("sheet_incomplete", missing=missing)
    unexplained = missing_reasons(session, settings, sheet) if sheet.source == "chat" else []
    if unexplained:   # a paper sheet carries its reasons on paper
        raise InvalidInput("outlier_reason_required", items=unexplained,
                           limit=settings.award.rules.outlier_item_percent)
    score = score_of(settings, sheet)
    sheet.status, sheet.total, sheet.confirmed_at, sheet.updated_at = "confirmed", decimal_text(score.total), now, now
    app = session.get(Application, sheet.application_id)
    audit.record(session, actor=actor, action="score.confirm", subject=f"application:{app.id}", now=now,
                 phase=sheet.phase, expert=sheet.expert, source=sheet.source, percentages=sheet.percentages,
                 total=sheet.total, reasons=sheet.reasons or {})
    session.flush()
    flag_disagreement(session, settings, sheet.phase, app, now=now)


@access.guarded("scoring.score")
def revise_sheet(session: Session, settings: Settings, *, actor: str, now: dt.datetime, sheet_id: int) -> ScoreSheet:
    """Unlock the expert's own confirmed sheet before the deadline; audited."""
    sheet = session.get(ScoreSheet, sheet_id)
    if sheet is None or sheet.expert != actor or sheet.edition != settings.award.edition_key:
        raise NotFound("sheet_not_found")
    _gate(session, settings, sheet.phase, sheet.application_id, actor, now)
    if sheet.status != "confirmed":
        return sheet
    sheet.status, sheet.updated_at = "draft", now
    audit.record(session, actor=actor, action="score.revise", subject=f"application:{sheet.application_id}",
                 now=now, phase=sheet.phase, expert=actor, previous_total=sheet.total)
    return sheet


REASON_MAX = 500


def check_reopen(session: Session, settings: Settings, phase: str, number: str,
                 expert: str) -> tuple[Application, ScoreSheet]:
    """Every check `reopen_sheet` makes but the reason: a confirmed sheet of this expert, the phase open."""
    app = find_application(session, settings, number)
    sheet = _get(session, check_phase(phase), app.id, expert)
    if sheet is None or sheet.status != "confirmed":
        raise NotFound("reopen_no_sheet", number=app.number, expert=expert)
    if stages.status(session, settings, phase) != "open":
        raise InvalidInput("phase_not_open", phase=phase)
    return app, sheet


@access.guarded("scoring.reopen")
def reopen_sheet(session: Session, settings: Settings, *, actor: str, now: dt.datetime, phase: str, number: str,
                 expert: str, reason: str = "") -> ScoreSheet:
    """The leader reopens a confirmed sheet (also after the deadline, for reopen_days) for a stated reason;
    audited, expert told."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("reason_required")
    if len(reason) > REASON_MAX:
        raise InvalidInput("reason_too_long", max=REASON_MAX, length=len(reason))
    app, sheet = check_reopen(session, settings, phase, number, expert)
    subject = sheet_subject(app.id, expert)
    until = now + dt.timedelta(days=settings.award.rules.reopen_days)
    if stages.deadline(session, settings, phase, subject) < until:
        stages.record_extension(session, settings, phase, until, actor=actor, now=now, subject=subject,
                      reason=reason)
    sheet.status, sheet.updated_at = "draft", now
    audit.record(session, actor=actor, action="score.reopen", subject=f"application:{app.id}", now=now,
                 phase=phase, expert=expert, previous_total=sheet.total, until=until.isoformat(), reason=reason)
    notices.notify(session, expert, "scoring.reopened", now=now, number=app.number, enterprise=app.enterprise_name,
                   until=stages.deadline(session, settings, phase, subject).isoformat(), reason=reason)
    return sheet


def confirmed_sheets(session: Session, settings: Settings, phase: str) -> list[ScoreSheet]:
    """Every confirmed sheet of a phase of this edition, by application then expert."""
    return list(session.scalars(select(ScoreSheet).where(ScoreSheet.edition == settings.award.edition_key,
                                                         ScoreSheet.phase == phase, ScoreSheet.status == "confirmed")
                                .order_by(ScoreSheet.application_id, ScoreSheet.expert)))


def unscored_assignments(session: Session, settings: Settings, phase: str) -> list[tuple[str, list[int], dt.datetime]]:
    """(expert userid, application ids without a confirmed sheet, deadline) for reminders."""
    done = {(s.application_id, s.expert) for s in confirmed_sheets(session, settings, phase)}
    owed: dict[str, list[int]] = {}
    for app_id, experts in assignments(session, settings, phase).items():
        for expert in experts:
            if (app_id, expert) not in done:
                owed.setdefault(expert, []).append(app_id)
    return [(expert, sorted(ids), min(stages.deadline(session, settings, phase, sheet_subject(i, expert))
                                       for i in ids))
            for expert, ids in sorted(owed.items())]


@dataclass(frozen=True)
class ImportProblem:
    """A paper sheet line that cannot be imported."""

    line: int
    code: str
    data: dict


@dataclass(frozen=True)
class ImportResult:
    """What an import did (nothing at all when there are problems)."""

    imported: int
    problems: tuple[ImportProblem, ...]


@access.guarded("scoring.import")
def import_sheets(session: Session, settings: Settings, *, actor: str, now: dt.datetime, phase: str,
                  text: str) -> ImportResult:
    """Import paper score sheets (CSV: number,expert,<item keys>); same checks and audit as chat; all or nothing."""
    check_phase(phase)
    rb = configured_rubric(settings)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    wanted = ["number", "expert", *rb.item_keys]
    if sorted(header) != sorted(wanted):
        return ImportResult(0, (ImportProblem(1, "bad_header", {"expected": wanted, "got": header}),))
    problems: list[ImportProblem] = []
    rows: list[tuple[Application, str, dict[str, int]]] = []
    for line, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        try:
            app = require_assigned(session, settings, row["expert"], row["number"], phase)
            _gate(session, settings, phase, app.id, row["expert"], now)
            existing = _get(session, phase, app.id, row["expert"])
            if existing is not None and existing.status == "confirmed":
                raise AlreadyDone("sheet_locked", number=app.number)
        except (NotFound, AlreadyDone, InvalidInput) as exc:
            problems.append(ImportProblem(line, exc.code, {"number": row["number"], "expert": row["expert"]}))
            continue
        percentages: dict[str, int] = {}
        for item in rb.items:
            value = parse_item_value(item, row[item.key], rb.step) if row[item.key] else \
                EntryError(item.key, EntryCode.MALFORMED, {"raw": ""})
            if isinstance(value, EntryError):
                problems.append(ImportProblem(line, str(value.code), {"item": item.key, **value.data}))
            else:
                percentages[item.key] = value
        rows.append((app, row["expert"], percentages))
    if problems:
        return ImportResult(0, tuple(problems))
    for app, expert, percentages in rows:
        sheet = _get(session, phase, app.id, expert)
        if sheet is None:
            sheet = ScoreSheet(edition=app.edition, phase=phase, application_id=app.id, expert=expert, comments={},
                               created_at=now, updated_at=now)
            session.add(sheet)
        sheet.percentages, sheet.source, sheet.status = percentages, "paper", "draft"
        session.flush()
        _lock(session, settings, sheet, actor=actor, now=now)
    return ImportResult(len(rows), ())


def export_sheets(session: Session, settings: Settings, phase: str | None = None) -> str:
    """CSV of every score sheet (both phases unless one is given): items, subtotals, total, status."""
    rb = configured_rubric(settings)
    names = {p.userid: p.name for p in people.with_role(session, *EXPERT_ROLES)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["phase", "number", "enterprise", "expert", "expert_name", "status", "source",
                     *rb.item_keys, *(c.key for c in rb.categories), "total", "confirmed_at"])
    q = (select(ScoreSheet, Application).join(Application, Application.id == ScoreSheet.application_id)
         .where(ScoreSheet.edition == settings.award.edition_key)
         .order_by(ScoreSheet.phase, Application.id, ScoreSheet.expert))
    if phase:
        q = q.where(ScoreSheet.phase == check_phase(phase))
    for sheet, app in session.execute(q):
        complete = not missing_items(settings, sheet)
        subs = score_of(settings, sheet).by_category if complete else {}
        writer.writerow(text_row([sheet.phase, app.number, app.enterprise_name, sheet.expert,
                                  names.get(sheet.expert, ""), sheet.status, sheet.source,
                                  *(sheet.percentages.get(k, "") for k in rb.item_keys),
                                  *(decimal_text(subs[c.key]) if complete else "" for c in rb.categories),
                                  sheet.total or "", sheet.confirmed_at.isoformat() if sheet.confirmed_at else ""]))
    return out.getvalue()


def my_sheets(session: Session, settings: Settings, expert: str, phase: str) -> list[tuple[Application, ScoreSheet | None]]:
    """The expert's assigned applications with his own sheet (never anyone else's)."""
    sheets = {s.application_id: s for s in session.scalars(
        select(ScoreSheet).where(ScoreSheet.edition == settings.award.edition_key, ScoreSheet.phase == phase,
                                 ScoreSheet.expert == expert))}
    return [(app, sheets.get(app.id)) for app in assigned_to(session, settings, expert, phase)]


def points(value: Fraction) -> str:
    """Exact points as decimal text."""
    return decimal_text(value)

