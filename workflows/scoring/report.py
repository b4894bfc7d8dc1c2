"""The data of the material review and site visit reports (rendered by the bot with Jinja2).

For the secretariat and the expert-group leader only: it names who scored what.
"""
from __future__ import annotations

from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import people
from workflows.scoring import results, siteissues, sheets as scoring
from workflows.scoring.experts import EXPERT_ROLES, assignments, check_phase
from workflows.apply.models import Application
from workflows.scoring.models import ScoreSheet
from workflows.scoring.ranking import rank
from workflows.core.settings import Settings


def _name(session: Session, userid: str) -> str:
    """A member's name for a report (the userid only when the roster no longer knows him)."""
    person = people.get(session, userid)
    return person.name if person is not None and person.name else userid


def _app_rows(session: Session, settings: Settings, phase: str, st: results.Standing) -> list[dict]:
    rb = scoring.configured_rubric(settings)
    names = {p.userid: p.name for p in people.with_role(session, *EXPERT_ROLES)}
    assigned = assignments(session, settings, phase)
    disputes = {d.app_id: d for d in st.disagreements}
    sheets: dict[int, list[ScoreSheet]] = {}
    for sheet in scoring.confirmed_sheets(session, settings, phase):
        sheets.setdefault(sheet.application_id, []).append(sheet)
    apps = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(list(assigned) or [0])))}
    rows = []
    for app_id in sorted(assigned, key=lambda a: (-(st.scores.get(a) or -1), a)):
        app = apps[app_id]
        experts, per_category = [], {c.key: [] for c in rb.categories}
        for sheet in sheets.get(app_id, []):
            subs = scoring.score_of(settings, sheet).by_category
            for key, value in subs.items():
                per_category[key].append(value)
            experts.append({"userid": sheet.expert, "name": names.get(sheet.expert, sheet.expert),
                            "total": results.fmt(Fraction(sheet.total)), "source": sheet.source,
                            "by_category": {k: results.fmt(v) for k, v in subs.items()},
                            "comments": sheet.comments, "confirmed_at": sheet.confirmed_at.isoformat()})
        totals = [Fraction(sheet.total) for sheet in sheets.get(app_id, [])]
        consensus = st.consensus.get(app_id)
        d = disputes.get(app_id)
        rows.append({
            "number": app.number, "enterprise": app.enterprise_name,
            "score": results.fmt(st.scores.get(app_id)), "aggregate": results.fmt(st.aggregates.get(app_id)),
            "pending": app_id in st.pending,
            "missing_experts": [names.get(u, u) for u in assigned[app_id]
                                if u not in {e["userid"] for e in experts}],
            "experts": experts,
            "categories": [{"key": c.key, "name": c.name, "max": c.max_points,
                            "mean": results.fmt(sum(per_category[c.key]) / len(per_category[c.key]))
                            if per_category[c.key] else "",
                            "low": results.fmt(min(per_category[c.key])) if per_category[c.key] else "",
                            "high": results.fmt(max(per_category[c.key])) if per_category[c.key] else ""}
                           for c in rb.categories],
            "total_low": results.fmt(min(totals)) if totals else "",
            "total_high": results.fmt(max(totals)) if totals else "",
            "total_range": results.fmt(max(totals) - min(totals)) if totals else "",
            "disputed": d is not None,
            "disputed_items": [s.key for s in d.items] if d else [],
            "consensus": {"value": results.fmt(Fraction(consensus.value)), "note": consensus.note,
                          "by": _name(session, consensus.recorded_by),
                          "at": consensus.recorded_at.isoformat()} if consensus else None,
        })
    return rows


def report_data(session: Session, settings: Settings, phase: str) -> dict:
    """Everything the phase report shows, as plain JSON-friendly values."""
    check_phase(phase)
    st = results.standing(session, settings, phase)
    r = settings.award.rules
    rows = _app_rows(session, settings, phase, st)
    by_id = {a.id: a for a in session.scalars(select(Application).where(
        Application.id.in_(list(st.scores) or [0])))}
    data: dict = {
        "phase": phase, "phase_name": settings.award.stage(phase).name, "standard": settings.award.rubric.standard,
        "guide": settings.award.rubric.guide, "bands": [list(b) for b in scoring.configured_rubric(settings).bands],
        "rules": {"aggregation": r.aggregation, "trim": r.trim, "gate": r.material_gate,
                  "candidates_max": r.candidates_max, "weight_material": r.weight_material_percent,
                  "weight_site": r.weight_site_percent, "vote_top": r.vote_top,
                  "threshold_total": r.disagreement_total_points, "threshold_item": r.disagreement_item_percent},
        "categories": [{"key": c.key, "name": c.name, "max": c.max_points} for c in scoring.configured_rubric(settings).categories],
        # An empty phase (nothing assigned or scored) has no ranking at all, let alone a final one.
        "applications": rows, "final": st.final and bool(st.scores), "empty": not rows and not st.scores,
        "pending": [row["number"] for row in rows if row["pending"]],
        "unresolved": [by_id[a].number for a in st.unresolved if a in by_id],
        "ranking": [{"position": e.position, "number": by_id[e.app_id].number,
                     "enterprise": by_id[e.app_id].enterprise_name, "score": results.fmt(e.score), "tied": e.tied}
                    for e in rank(st.scores)],
        "selection": None, "composite": None, "top": None, "confirmation": None,
    }
    if phase == "material":
        sel = results.candidates(session, settings)
        data["selection"] = {
            "selected": [by_id[a].number for a in sel.selected],
            "tie": {"score": results.fmt(sel.tie_at_cut.score), "places": sel.tie_at_cut.places,
                    "tied": [by_id[a].number for a in sel.tie_at_cut.tied]} if sel.tie_at_cut else None,
            "below_gate": [by_id[a].number for a in sel.excluded_below_gate]}
    else:
        sheets_by_number = {w["number"]: w for w in siteissues.site_worksheets(session, settings)}
        for row in rows:    # the issue worksheet of each visited applicant (issue 25.3)
            row["worksheet"] = sheets_by_number.get(row["number"])
        comp = results.composite_ranking(session, settings)
        apps = {a.id: a for a in session.scalars(select(Application).where(
            Application.id.in_([e.app_id for e in comp.entries] or [0])))}
        data["composite"] = [{"position": e.position, "number": apps[e.app_id].number,
                              "enterprise": apps[e.app_id].enterprise_name, "material": results.fmt(e.material),
                              "site": results.fmt(e.site), "composite": results.fmt(e.composite), "tied": e.tied}
                             for e in comp.entries]
        cut = comp.top(r.vote_top)
        data["top"] = {"selected": [apps[a].number for a in cut.selected],
                       "tie": {"score": results.fmt(cut.tie_at_cut.score), "places": cut.tie_at_cut.places,
                               "tied": [apps[a].number for a in cut.tie_at_cut.tied]} if cut.tie_at_cut else None}
    conf = results.report_confirmation(session, settings, phase)
    if conf is not None:
        data["confirmation"] = {"by": _name(session, conf.confirmed_by), "at": conf.confirmed_at.isoformat(), "digest": conf.digest,
                                "current": conf.digest == results.ranking_digest(session, settings, phase)}
    return data
