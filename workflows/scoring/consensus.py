"""Consensus per item (issue 25.2): the leader settles each GB/T 19580 item whose spread exceeds the threshold (and
may settle any) — the agreed percentage, the agreed strengths and opportunities, and a reason for the change from
the individual scores — recorded (`item_consensus`) and audited; the consensus scorebook shows, per item, every
expert's score and comments, the spread and the result.

The application's consensus total is the sum over items of the agreed points where an item is settled and the
experts' aggregate (the configured mean or trimmed mean of the item's points) where it is not. Once every item
whose spread exceeds `disagreement_item_percent` is settled (and at least one item is), that total is recorded as
the application's `Consensus` (source `items`), so the ranking, the reports and `共识` work as before.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core import access, audit, people
from workflows.core.errors import InvalidInput
from workflows.core.settings import Settings
from workflows.scoring import ranking
from workflows.scoring.comments import TEXT_MAX
from workflows.scoring.experts import EXPERT_ROLES, assignments, check_phase, find_application
from workflows.scoring.models import Consensus, ItemConsensus, ScoreSheet
from workflows.scoring.results import fmt, standing
from workflows.scoring.rubric import Rubric
from workflows.scoring.scoresheet import EntryError, decimal_text, item_points, parse_item_value
from workflows.scoring.sheets import configured_rubric

REASON_MAX = 500
_PART = re.compile(r"(优势|改进机会|改进|理由|原因)\s*[:：]")
_KIND = {"优势": "strengths", "改进机会": "opportunities", "改进": "opportunities", "理由": "reason", "原因": "reason"}


def parse_settlement(text: str) -> dict[str, str]:
    """'60% 优势：…；改进：… 理由：…' → {value, strengths, opportunities, reason} (missing parts empty)."""
    parts = _PART.split(text.strip())
    out = {"value": parts[0].strip(), "strengths": "", "opportunities": "", "reason": ""}
    for mark, body in zip(parts[1::2], parts[2::2]):
        out[_KIND[mark]] = body.strip(" ;；。")
    return out


def confirmed(session: Session, phase: str, app_id: int) -> list[ScoreSheet]:
    """The application's confirmed sheets of a phase, by expert."""
    return _sheets(session, phase, app_id)


def _sheets(session: Session, phase: str, app_id: int) -> list[ScoreSheet]:
    return list(session.scalars(select(ScoreSheet).where(ScoreSheet.phase == phase, ScoreSheet.application_id == app_id,
                                                         ScoreSheet.status == "confirmed")
                                .order_by(ScoreSheet.expert)))


def settled(session: Session, phase: str, app_id: int) -> dict[str, ItemConsensus]:
    """The settled items of an application in a phase, by item key."""
    return {r.item_key: r for r in session.scalars(select(ItemConsensus).where(
        ItemConsensus.phase == phase, ItemConsensus.application_id == app_id))}


def _item_aggregate(settings: Settings, rb: Rubric, sheets: list[ScoreSheet], key: str) -> Fraction:
    r = settings.award.rules
    values = [item_points(rb.item(key).max_points, int(s.percentages[key])) for s in sheets if key in s.percentages]
    return ranking.aggregate(values, r.aggregation, r.trim) if values else Fraction(0)


def consensus_total(settings: Settings, rb: Rubric, sheets: list[ScoreSheet],
                    agreed: dict[str, ItemConsensus], keys: list[str] | None = None) -> Fraction:
    """Σ over items (all, or `keys`): agreed points where settled, the experts' aggregate of the item's points
    where not."""
    return sum((item_points(rb.item(k).max_points, agreed[k].percent) if k in agreed
                else _item_aggregate(settings, rb, sheets, k) for k in (keys or rb.item_keys)), Fraction(0))


def flagged_items(settings: Settings, sheets: list[ScoreSheet]) -> set[str]:
    """Items whose spread (highest − lowest percentage) exceeds `disagreement_item_percent`."""
    limit = settings.award.rules.disagreement_item_percent
    keys = {k for s in sheets for k in s.percentages}
    return {k for k in keys if (lambda v: max(v) - min(v))([int(s.percentages[k]) for s in sheets
                                                             if k in s.percentages]) > limit}


@dataclass(frozen=True)
class ItemCheck:
    """What settling an item would record: the application, the item, the agreed percentage, the experts'
    percentages, the previous settlement, and whether a reason is required."""

    app: Application
    item_key: str
    percent: int
    given: dict[str, int]
    previous: ItemConsensus | None
    needs_reason: bool


def check_item(session: Session, settings: Settings, phase: str, number: str, item_key: str, value: str) -> ItemCheck:
    """Every check `settle_item` makes: all sheets in, a rubric item, a valid value on the grid."""
    check_phase(phase)
    app = find_application(session, settings, number)
    experts = assignments(session, settings, phase).get(app.id, [])
    sheets = _sheets(session, phase, app.id)
    missing = [e for e in experts if e not in {s.expert for s in sheets}]
    if not experts or missing:
        names = {p.userid: p.name for p in people.with_role(session, *EXPERT_ROLES)}
        raise InvalidInput("consensus_sheets_missing", number=app.number, done=len(experts) - len(missing),
                           total=len(experts), missing=[names.get(u) or u for u in missing])
    rb = configured_rubric(settings)
    item = rb.item(item_key)
    if item is None:
        raise InvalidInput("consensus_unknown_item", number=app.number, item=item_key)
    result = parse_item_value(item, value, rb.step)
    if isinstance(result, EntryError):
        raise InvalidInput("consensus_bad_value", item=item.key, entry=str(result.code), data=result.data)
    given = {s.expert: int(s.percentages[item.key]) for s in sheets if item.key in s.percentages}
    previous = settled(session, phase, app.id).get(item.key)
    needs = any(v != result for v in given.values()) or previous is not None
    return ItemCheck(app, item.key, result, given, previous, needs)


@access.guarded("results.consensus")
def settle_item(session: Session, settings: Settings, *, actor: str, now: dt.datetime, phase: str, number: str,
                item_key: str, value: str, strengths: str = "", opportunities: str = "",
                reason: str = "") -> tuple[ItemConsensus, Consensus | None]:
    """The leader records the group's result for one item; audited. A reason is required when the agreed score
    differs from any expert's, and when a settlement is replaced. Returns the row and the application's
    Consensus when the settled items now resolve it."""
    checked = check_item(session, settings, phase, number, item_key, value)
    reason = " ".join((reason or "").split())
    if checked.needs_reason and not reason:
        raise InvalidInput("item_consensus_reason_required", number=checked.app.number, item=checked.item_key,
                           replacing=checked.previous is not None)
    if len(reason) > REASON_MAX:
        raise InvalidInput("reason_too_long", max=REASON_MAX, length=len(reason))
    row, previous = checked.previous, None
    if row is None:
        row = ItemConsensus(edition=checked.app.edition, phase=phase, application_id=checked.app.id,
                            item_key=checked.item_key)
        session.add(row)
    else:
        previous = {"percent": row.percent, "strengths": row.strengths, "opportunities": row.opportunities,
                    "reason": row.reason, "by": row.recorded_by, "at": row.recorded_at.isoformat()}
    row.percent, row.reason, row.recorded_by, row.recorded_at = checked.percent, reason, actor, now
    row.strengths, row.opportunities = strengths.strip()[:TEXT_MAX], opportunities.strip()[:TEXT_MAX]
    session.flush()
    audit.record(session, actor=actor, action="score.item_consensus", subject=f"application:{checked.app.id}",
                 now=now, phase=phase, item=row.item_key, percent=row.percent, given=checked.given,
                 strengths=row.strengths, opportunities=row.opportunities, reason=reason, previous=previous)
    return row, _sync_total(session, settings, phase, checked.app, actor=actor, now=now, reason=reason)


def _sync_total(session: Session, settings: Settings, phase: str, app: Application, *, actor: str,
                now: dt.datetime, reason: str) -> Consensus | None:
    """Record the application's consensus total once every flagged item is settled."""
    sheets = _sheets(session, phase, app.id)
    agreed = settled(session, phase, app.id)
    if not agreed or flagged_items(settings, sheets) - set(agreed):
        return None
    total = consensus_total(settings, configured_rubric(settings), sheets, agreed)
    row = session.scalar(select(Consensus).where(Consensus.phase == phase, Consensus.application_id == app.id))
    previous = None
    if row is None:
        row = Consensus(edition=app.edition, phase=phase, application_id=app.id)
        session.add(row)
    else:
        previous = {"value": row.value, "note": row.note, "by": row.recorded_by, "at": row.recorded_at.isoformat()}
    row.value, row.note, row.recorded_by, row.recorded_at = decimal_text(total), "", actor, now
    audit.record(session, actor=actor, action="score.consensus", subject=f"application:{app.id}", now=now,
                 phase=phase, value=row.value, source="items", items=sorted(agreed), note=row.note,
                 previous=previous, reason=reason[:500])
    return row


def scorebook(session: Session, settings: Settings, phase: str, app: Application) -> dict[str, Any]:
    """The consensus scorebook of one application: per item every expert's score, comments and reason, the
    spread, and the agreed result; the experts' totals, their aggregate and the consensus total."""
    check_phase(phase)
    rb = configured_rubric(settings)
    sheets = _sheets(session, phase, app.id)
    experts = assignments(session, settings, phase).get(app.id, [])
    names = {p.userid: p.name for p in people.with_role(session, *EXPERT_ROLES)}
    agreed = settled(session, phase, app.id)
    flagged = flagged_items(settings, sheets)
    items = []
    for item in rb.items:
        given = [{"name": names.get(s.expert) or s.expert, "percent": int(s.percentages[item.key]),
                  "points": fmt(item_points(item.max_points, int(s.percentages[item.key]))),
                  "comment": (s.comments or {}).get(item.key) or {}, "reason": (s.reasons or {}).get(item.key, "")}
                 for s in sheets if item.key in s.percentages]
        values = [g["percent"] for g in given]
        result = agreed.get(item.key)
        items.append({"key": item.key, "name": item.name, "max": item.max_points, "category": item.category,
                      "given": given, "low": min(values) if values else None, "high": max(values) if values else None,
                      "spread": (max(values) - min(values)) if values else None, "flagged": item.key in flagged,
                      "mean_points": fmt(_item_aggregate(settings, rb, sheets, item.key)) if values else "",
                      "result": None if result is None else {
                          "percent": result.percent, "points": fmt(item_points(item.max_points, result.percent)),
                          "strengths": result.strengths, "opportunities": result.opportunities,
                          "reason": result.reason, "by": names.get(result.recorded_by) or result.recorded_by,
                          "at": result.recorded_at}})
    st = standing(session, settings, phase)
    complete = bool(sheets) and len(sheets) == len(experts)
    row = st.consensus.get(app.id)
    total = consensus_total(settings, rb, sheets, agreed) if complete and agreed else None
    return {"phase": phase, "app": app, "items": items, "complete": complete,
            "experts": [{"name": names.get(s.expert) or s.expert, "total": fmt(Fraction(s.total))} for s in sheets],
            "missing": [names.get(u) or u for u in experts if u not in {s.expert for s in sheets}],
            "aggregate": fmt(st.aggregates.get(app.id)),
            "consensus_total": fmt(total) if total is not None else "",
            "recorded": None if row is None else {"value": fmt(Fraction(row.value)), "note": row.note,
                                                   "from_items": total is not None and Fraction(row.value) == total},
            "score": fmt(st.scores.get(app.id)), "settled": len(agreed), "flagged": len(flagged),
            "open": sorted(flagged - set(agreed), key=rb.item_keys.index),
            "threshold_item": settings.award.rules.disagreement_item_percent, "max": rb.total_max}

