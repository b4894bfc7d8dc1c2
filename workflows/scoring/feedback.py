"""A feedback report for one applicant (issue 25.5): per GB/T 19580 category the score band, the key strengths and
opportunities for improvement, and an overall view — from the group's consensus (agreed items first, then the
experts' comments) of the latest phase the applicant was scored in, the site visit before the material review.

Never another applicant's data, never an expert's name or an individual score: only bands (GB/Z 19579's, of the
consensus result), anonymous texts (deduplicated) and the stage the applicant reached.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core.errors import InvalidInput
from workflows.core.settings import Settings
from workflows.scoring import consensus, siteissues
from workflows.scoring.experts import PHASES, assignments, find_application
from workflows.scoring.models import ItemConsensus, ScoreSheet
from workflows.scoring.results import VOTE, SITE, shortlist
from workflows.scoring.sheets import configured_rubric

KEY_TEXTS = 4   # at most this many strengths and as many opportunities per category [decision]


def band(percent: Fraction, bands: tuple[tuple[int, int], ...]) -> tuple[int, int, int]:
    """(1-based index, low, high) of the GB/Z 19579 band a percentage lies in; between two bands, the nearer."""
    def distance(b: tuple[int, int]) -> Fraction:
        low, high = b
        return Fraction(0) if low <= percent <= high else min(abs(percent - low), abs(percent - high))
    index = min(range(len(bands)), key=lambda i: (distance(bands[i]), -i))
    return index + 1, bands[index][0], bands[index][1]


def _complete(session: Session, settings: Settings, phase: str, app: Application) -> list[ScoreSheet]:
    """The phase's confirmed sheets of the application when every assigned expert confirmed one, else []."""
    experts = assignments(session, settings, phase).get(app.id, [])
    sheets = consensus.confirmed(session, phase, app.id)
    return sheets if experts and {s.expert for s in sheets} >= set(experts) else []


def _texts(kind: str, keys: list[str], agreed: dict[str, ItemConsensus], sheets: list[ScoreSheet]) -> list[str]:
    """Per item the agreed text where settled, else the experts' texts; taken round-robin over the items (one
    from each item first), without repeats."""
    per_item = []
    for key in keys:
        row = agreed.get(key)
        found = [getattr(row, kind)] if row is not None and getattr(row, kind) else \
            [((s.comments or {}).get(key) or {}).get(kind, "") for s in sheets]
        per_item.append([t.strip() for t in found if t and t.strip()])
    out: list[str] = []
    for rank in range(max((len(t) for t in per_item), default=0)):
        for texts in per_item:
            if rank < len(texts) and texts[rank] not in out:
                out.append(texts[rank])
    return out


def _site_notes(session: Session, app: Application) -> dict[str, list[dict[str, str]]]:
    """Per item, what was verified on site and what was found (issue 25.3): the group's finding where recorded,
    else the first expert's — the text only, never who found it or the adjustment."""
    rows = siteissues.issues_of(session, app.id)
    found = siteissues.findings_of(session, [r.id for r in rows])
    out: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        first = next(iter(found[r.id]), None)   # the group's first (findings_of orders them so)
        if first is None:
            continue
        out.setdefault(r.item_key, []).append({"verify": r.verify, "outcome": first.outcome,
                                               "finding": first.finding or first.reason})
    return out


def feedback_data(session: Session, settings: Settings, number: str) -> dict[str, Any]:
    """Everything one applicant's feedback report shows (JSON-able)."""
    app = find_application(session, settings, number)
    rb = configured_rubric(settings)
    scored = {phase: _complete(session, settings, phase, app) for phase in PHASES}
    phase = "site" if scored["site"] else "material"
    sheets = scored[phase]
    if not sheets:
        raise InvalidInput("feedback_not_ready", number=app.number)
    agreed = consensus.settled(session, phase, app.id)
    earlier = {p: consensus.settled(session, p, app.id) for p in PHASES if p != phase and scored[p]}
    site_notes = _site_notes(session, app) if scored["site"] else {}
    categories = []
    order: dict[str, Fraction] = {}
    total = Fraction(0)
    for cat in rb.categories:
        items = [i for i in rb.items if i.category == cat.key]
        points = consensus.consensus_total(settings, rb, sheets, agreed, keys=[i.key for i in items])
        total += points
        keys = [cat.key] + [i.key for i in items if i.key != cat.key]
        strengths = _texts("strengths", keys, agreed, sheets)
        opportunities = _texts("opportunities", keys, agreed, sheets)
        for p, rows in earlier.items():   # the material review's words complete the site visit's
            strengths += [t for t in _texts("strengths", keys, rows, scored[p]) if t not in strengths]
            opportunities += [t for t in _texts("opportunities", keys, rows, scored[p]) if t not in opportunities]
        percent = points / cat.max_points * 100
        number_, low, high = band(percent, rb.bands)
        order[cat.key] = percent   # for the overall view's ordering only; never shown
        categories.append({"key": cat.key, "name": cat.name, "max": cat.max_points, "process": cat.process,
                           "band": number_, "low": low, "high": high,
                           "items": [{"key": i.key, "name": i.name} for i in items],
                           "strengths": strengths[:KEY_TEXTS], "opportunities": opportunities[:KEY_TEXTS],
                           "site": [n for i in items for n in site_notes.get(i.key, [])]})
    overall = band(total / rb.total_max * 100, rb.bands)
    reached = ("vote" if any(r.application_id == app.id for r in shortlist(session, settings, VOTE)) else
               "site" if any(r.application_id == app.id for r in shortlist(session, settings, SITE)) else "material")
    ranked = sorted(categories, key=lambda c: (-order[c["key"]], c["key"]))
    strongest, weakest = ranked[:2], ranked[-2:][::-1]
    return {"number": app.number, "enterprise": app.enterprise_name, "phase": phase, "reached": reached,
            "standard": settings.award.rubric.standard, "guide": settings.award.rubric.guide,
            "bands": [list(b) for b in rb.bands], "categories": categories,
            "overall": {"band": overall[0], "low": overall[1], "high": overall[2]},
            "strongest": [c["key"] for c in strongest], "weakest": [c["key"] for c in weakest],
            "site_visited": bool(scored["site"])}
