"""The numbers behind the workbench's charts (bot/web/admin/charts.py), from the data each page already reads.

Only data here: codes, numbers, application numbers and members' names. The words — titles, legends, the marks'
labels, what a status code reads — are in the page templates, which call `chart.bars(...)` and friends.
"""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any, Sequence

from workflows.apply.models import AppStatus
from workflows.scoring import results

from .charts import Bar, Dot, DotRow, Part


def num(value: Fraction | Decimal | str | float | None) -> float:
    """A score as shown (two decimals, half up), as a number: the chart's value is the table's."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, str):
        return float(Decimal(value))
    return float(Decimal(results.fmt(Fraction(value))))


def reached(counts: dict[str, int]) -> list[Bar]:
    """The funnel: how many applications reached each step, in order (label: the step's code)."""
    return [Bar(step, n, kind="selected") for step, n in counts.items()]


def statuses(counts: dict[str, int]) -> list[Bar]:
    """Applications per status, in the order an application goes through them (label: the status code)."""
    order = [s.value for s in AppStatus]
    return [Bar(code, counts[code]) for code in sorted(counts, key=lambda c: order.index(c) if c in order else 99)
            if counts[code]]


def owed(obligations: Sequence[dict[str, Any]]) -> list[tuple[str, list[Part]]]:
    """Who owes what, per kind: overdue, due within 24 hours, later (row label: the kind code)."""
    rows: dict[str, list[int]] = {}
    for o in obligations:
        slot = 0 if o["hours_left"] < 0 else 1 if o["hours_left"] < 24 else 2
        rows.setdefault(o["kind"], [0, 0, 0])[slot] += 1
    return [(kind, [Part(n, cls, cls) for n, cls in zip(counts, ("overdue", "soon", "later"))])
            for kind, counts in rows.items()]


def _bounds(values: Sequence[float], step: int, lo: int = 0, hi: int = 1000) -> tuple[float, float, list[float]]:
    """An axis around the values, in whole steps (the spread stays visible), with its ticks."""
    if not values:
        return lo, hi, [lo, hi]
    a = max(lo, math.floor(min(values) / step) * step)
    b = min(hi, math.ceil(max(values) / step) * step)
    if a == b:
        a, b = max(lo, a - step), min(hi, b + step)
    every = step * max(1, math.ceil((b - a) / step / 5))
    return a, b, [float(t) for t in range(int(a), int(b) + 1, every)]


def totals(applications: Sequence[dict[str, Any]], experts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each application's totals by expert (a dot each), the aggregate as a tick, flagged spreads marked."""
    series = [x["name"] for x in experts]
    rows, seen = [], []
    for e in applications:
        app = e["app"]
        dots = [Dot(num(x["totals"][app.id]), i, x["totals"][app.id]) for i, x in enumerate(experts)
                if app.id in x["totals"]]
        seen += [d.value for d in dots]
        rows.append(DotRow(app.number or f"#{app.id}", dots, num(e["aggregate"]) if e["aggregate"] else None,
                           bool(e["flagged_items"] or e["total_flagged"])))
    lo, hi, ticks = _bounds(seen, 50)
    return {"rows": rows, "series": series, "lo": lo, "hi": hi, "ticks": ticks}


def items(selected: dict[str, Any], item_keys: Sequence[str]) -> dict[str, Any]:
    """One application's percentages item by item, a dot per expert, flagged items marked (the axis spans the
    percentages given, in tens, so that a 5-point spread is visible)."""
    experts = selected["experts"]
    rows = [DotRow(key, [Dot(float(x["percentages"][key]), i) for i, x in enumerate(experts)
                         if key in x["percentages"]], None, key in selected["flagged_items"])
            for key in item_keys]
    lo, hi, ticks = _bounds([d.value for r in rows for d in r.dots], 10, 0, 100)
    return {"rows": rows, "series": [x["name"] for x in experts], "lo": lo, "hi": hi, "ticks": ticks}


def material(d: dict[str, Any], cut: int) -> dict[str, Any]:
    """The material ranking's bars (selected, below the gate, or out), and the score at the cut (the last place)."""
    bars = [Bar(app.number or f"#{app.id}", num(e.score), results.fmt(e.score),
                "selected" if e.app_id in d["selected"] else "below" if e.app_id in d["below_gate"] else "out")
            for e, app in d["ranking"]]
    at_cut = num(d["ranking"][cut - 1][0].score) if len(d["ranking"]) >= cut else None
    return {"bars": bars, "at_cut": at_cut}


def composite(d: dict[str, Any], cut: int) -> dict[str, Any]:
    """The composite ranking's bars and the score at the top-N cut."""
    bars = [Bar(app.number or f"#{app.id}", num(e.composite), results.fmt(e.composite),
                "selected" if e.app_id in d["selected"] else "out") for e, app in d["composite"]]
    at_cut = num(d["composite"][cut - 1][0].composite) if len(d["composite"]) >= cut else None
    return {"bars": bars, "at_cut": at_cut}


def turnout(people: Sequence[dict[str, Any]]) -> list[Part]:
    """A round's participation: voted, not yet, recused (never a choice)."""
    voted = sum(1 for p in people if p["voted"] and not p["recused"])
    recused = sum(1 for p in people if p["recused"])
    return [Part(voted, "voted", "voted"), Part(len(people) - voted - recused, "waiting", "waiting"),
            Part(recused, "recused", "recused")]
