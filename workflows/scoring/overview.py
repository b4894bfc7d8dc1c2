"""Read-only views of the expert review for the workbench: who is assigned where (and who may not be), the
score sheets item by item and expert by expert. Nothing here changes state; the arithmetic is `results`'."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import committee
from workflows.apply.models import Application
from workflows.core.models import Person
from workflows.core.settings import Settings
from workflows.scoring import ranking as arithmetic
from workflows.scoring import results
from workflows.scoring.assignment import AppInfo, ExpertInfo, conflict_reasons
from workflows.scoring.experts import (
    EXPERT_ROLES, assignments, check_phase, conflicts, phase_applications, region_name,
)
from workflows.scoring.models import Assignment, AssignmentProposal, ScoreSheet
from workflows.scoring.scoresheet import subtotals
from workflows.scoring.sheets import configured_rubric


def assigned_ids(session: Session, settings: Settings, expert: str) -> set[int]:
    """Ids of this edition's applications assigned to an expert in either phase."""
    return set(session.scalars(
        select(Assignment.application_id).join(Application, Application.id == Assignment.application_id)
        .where(Assignment.expert == expert, Application.edition == settings.award.edition_key)))


@dataclass(frozen=True)
class Cell:
    """One application × expert of the matrix: assigned, why he may not score it, his sheet's status."""

    assigned: bool
    reasons: tuple[str, ...]
    sheet: str | None


def _experts(session: Session, also: set[str]) -> list[Person]:
    """The active expert pool plus anyone still holding an assignment (a removed member shows as such)."""
    return list(session.scalars(select(Person).where(
        (Person.role.in_(EXPERT_ROLES) & Person.active.is_(True)) | Person.userid.in_(sorted(also) or [""]))
        .order_by(Person.userid)))


def matrix(session: Session, settings: Settings, phase: str) -> dict[str, Any]:
    """The assignment matrix of a phase: applications × experts, conflicts, sheet status and each expert's load."""
    check_phase(phase)
    apps = phase_applications(session, settings, phase)
    assigned = assignments(session, settings, phase)
    ids = {a.id for a in apps}
    holding = {e for a, experts in assigned.items() if a in ids for e in experts}
    experts = _experts(session, holding)
    declared = conflicts(session, settings)
    sheets = {(s.application_id, s.expert): s.status for s in session.scalars(
        select(ScoreSheet).where(ScoreSheet.phase == phase, ScoreSheet.application_id.in_(ids or {0})))}
    infos = {p.userid: ExpertInfo(p.userid, p.organization, p.region) for p in experts}
    rows = []
    for app in apps:
        info = AppInfo(str(app.id), app.enterprise_name or "", region_name(settings, app.region_code))
        cells = {p.userid: Cell(p.userid in assigned.get(app.id, ()),
                                tuple(str(r) for r in conflict_reasons(info, infos[p.userid], declared)),
                                sheets.get((app.id, p.userid))) for p in experts}
        rows.append({"app": app, "cells": cells, "count": len(assigned.get(app.id, ()))})
    load = {p.userid: sum(1 for r in rows if r["cells"][p.userid].assigned) for p in experts}
    proposal = session.scalar(select(AssignmentProposal).where(
        AssignmentProposal.edition == settings.award.edition_key, AssignmentProposal.phase == phase,
        AssignmentProposal.status == "pending").order_by(AssignmentProposal.id.desc()))
    return {"phase": phase, "experts": experts, "rows": rows, "load": load, "proposal": proposal,
            "per_application": settings.award.rules.experts_per_application,
            "confirmed": bool(assigned)}


def sheets(session: Session, settings: Settings, phase: str,
           st: results.Standing | None = None) -> dict[str, Any]:
    """Every application's sheets of a phase item by item, with the items whose spread exceeds the threshold."""
    check_phase(phase)
    rubric = configured_rubric(settings)
    st = st or results.standing(session, settings, phase)
    disputes = {d.app_id: d for d in st.disagreements}
    assigned = assignments(session, settings, phase)
    rows = session.scalars(select(ScoreSheet).where(ScoreSheet.phase == phase,
                                                    ScoreSheet.application_id.in_(list(assigned) or [0]))
                           .order_by(ScoreSheet.application_id, ScoreSheet.expert)).all()
    by_app: dict[int, list[ScoreSheet]] = {}
    for sheet in rows:
        by_app.setdefault(sheet.application_id, []).append(sheet)
    apps = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(list(assigned) or [0])))}
    names = dict(session.execute(select(Person.userid, Person.name).where(
        Person.userid.in_(sorted({e for es in assigned.values() for e in es}) or [""]))).all())
    out = []
    for app_id in sorted(assigned, key=lambda a: apps[a].number or ""):
        d = disputes.get(app_id)
        flagged = {s.key for s in d.items} if d else set()
        experts = []
        for sheet in by_app.get(app_id, []):
            complete = all(k in sheet.percentages for k in rubric.item_keys)
            subs = subtotals(rubric, {k: int(v) for k, v in sheet.percentages.items()}).by_category if complete else {}
            experts.append({"userid": sheet.expert, "name": names.get(sheet.expert, sheet.expert),
                            "status": sheet.status, "source": sheet.source, "total": sheet.total or "",
                            "percentages": sheet.percentages, "comments": sheet.comments or {},
                            "reasons": sheet.reasons or {},
                            "subtotals": {k: results.fmt(v) for k, v in subs.items()}})
        done = {e["userid"] for e in experts if e["status"] == "confirmed"}
        consensus = st.consensus.get(app_id)
        noted = {k for e in experts for k in (*e["comments"], *e["reasons"])}
        keys = list(dict.fromkeys(k for c in rubric.categories
                                  for k in (c.key, *(i.key for i in rubric.items if i.category == c.key))))
        out.append({"app": apps[app_id], "experts": experts, "comment_keys": [k for k in keys if k in noted],
                    "missing": [names.get(u, u) for u in assigned[app_id] if u not in done],
                    "flagged_items": flagged, "total_flagged": bool(d and d.total_flagged),
                    "total_range": results.fmt(d.total.range) if d else "",
                    "aggregate": results.fmt(st.aggregates.get(app_id)), "score": results.fmt(st.scores.get(app_id)),
                    "consensus": consensus, "pending": app_id in st.pending,
                    "unresolved": app_id in st.unresolved})
    return {"phase": phase, "rubric": rubric, "applications": out, "final": st.final,
            "threshold_total": settings.award.rules.disagreement_total_points,
            "threshold_item": settings.award.rules.disagreement_item_percent}


def by_expert(session: Session, settings: Settings, phase: str,
              st: results.Standing | None = None) -> list[dict[str, Any]]:
    """Each expert's confirmed totals across his applications in a phase (how each one scores overall)."""
    check_phase(phase)
    assigned = assignments(session, settings, phase)
    confirmed = {(s.app_id, s.expert): s.total for s in results.expert_sheets(session, settings, phase)}
    st = st or results.standing(session, settings, phase)
    experts = sorted({e for es in assigned.values() for e in es})
    names = dict(session.execute(select(Person.userid, Person.name).where(Person.userid.in_(experts or [""]))).all())
    out = []
    for expert in experts:
        mine = [a for a, es in assigned.items() if expert in es]
        given = {a: confirmed[(a, expert)] for a in mine if (a, expert) in confirmed}
        # How far this expert's totals sit from the group's aggregate, on average (a harsh or lenient scorer).
        deltas = [Fraction(v) - st.aggregates[a] for a, v in given.items() if a in st.aggregates]
        out.append({"userid": expert, "name": names.get(expert, expert), "assigned": len(mine),
                    "confirmed": len(given), "totals": {a: results.fmt(Fraction(v)) for a, v in given.items()},
                    "mean_delta": results.fmt(sum(deltas, Fraction(0)) / len(deltas)) if deltas else ""})
    return out


def ranking(session: Session, settings: Settings) -> dict[str, Any]:
    """Both phases' rankings from one standing each: the gate and the cut, the composite and the top N, and
    whether each leader's confirmation still matches the scores."""
    r = settings.award.rules
    st = {phase: results.standing(session, settings, phase) for phase in ("material", "site")}
    ids = set(st["material"].scores) | set(st["site"].scores)
    apps = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids or {0})))}
    out: dict[str, Any] = {}
    for phase, standing in st.items():
        confirmation = results.report_confirmation(session, settings, phase)
        out[phase] = {"final": standing.final, "confirmation": confirmation,
                      "current": confirmation is not None and confirmation.digest == results.digest_of(standing),
                      "pending": [apps[a].number for a in standing.pending if a in apps],
                      "unresolved": [apps[a].number for a in standing.unresolved if a in apps]}
    selection = arithmetic.select_candidates(st["material"].scores, r.material_gate, r.candidates_max,
                                             committee.admitted_ids(session, settings))
    out["material"] |= {"ranking": [(e, apps[e.app_id]) for e in selection.ranking],
                        "selected": set(selection.selected), "below_gate": set(selection.excluded_below_gate),
                        "tie": selection.tie_at_cut,
                        "tied": [apps[a].number for a in selection.tie_at_cut.tied] if selection.tie_at_cut else []}
    site_ids = {row.application_id for row in results.shortlist(session, settings, results.SITE)}
    comp = arithmetic.rank_composite({a: v for a, v in st["material"].scores.items() if a in site_ids},
                                     st["site"].scores, r.weight_material_percent, r.weight_site_percent)
    top = comp.top(r.vote_top)
    out["site"] |= {"composite": [(e, apps[e.app_id]) for e in comp.entries], "selected": set(top.selected),
                    "tie": top.tie_at_cut, "tied": [apps[a].number for a in top.tie_at_cut.tied] if top.tie_at_cut else []}
    return out
