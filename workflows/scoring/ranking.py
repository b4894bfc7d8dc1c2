"""Aggregating expert totals, flagging disagreements, gates, cuts and composite ranking.

All arithmetic is exact (Fraction). Results never depend on the order inputs
arrive in: equal scores are listed by application id for a stable display, but
are always reported as tied, and a tie straddling a cut is never broken here.
Application ids must be mutually orderable (all str or all int).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

Number = int | Fraction | Decimal | float
AppId = Hashable


class AggregateMethod(StrEnum):
    """How the totals of several experts become one score."""

    MEAN = "mean"
    TRIMMED_MEAN = "trimmed_mean"


def exact(value: Number) -> Fraction:
    """The value as an exact Fraction; floats are read by their shortest decimal form."""
    if isinstance(value, bool):
        raise TypeError("a score cannot be a bool")
    if isinstance(value, float):
        # 0.4 from a config file means 2/5, not the nearest binary double.
        return Fraction(repr(value))
    return Fraction(value)


def aggregate(totals: Sequence[Number], method: str = AggregateMethod.MEAN,
              trim: int = 1) -> Fraction:
    """One score from several experts' totals: mean, or trimmed mean.

    The trimmed mean drops the `trim` highest and `trim` lowest totals, but only
    when at least 2*trim+1 totals exist; with fewer it falls back to the plain
    mean (dropping would leave nothing, or an arbitrary survivor).
    """
    if not totals:
        raise ValueError("no totals to aggregate")
    if trim < 0:
        raise ValueError("trim must be >= 0")
    values = sorted(exact(t) for t in totals)
    method = AggregateMethod(method)
    if method is AggregateMethod.TRIMMED_MEAN and trim and len(values) >= 2 * trim + 1:
        values = values[trim:-trim]
    return sum(values, Fraction(0)) / len(values)


@dataclass(frozen=True)
class ExpertSheet:
    """One expert's finished sheet for one application: total and item percentages."""

    app_id: AppId
    expert: str
    total: Number
    percentages: Mapping[str, int] = field(default_factory=dict)


def application_scores(sheets: Iterable[ExpertSheet], method: str = AggregateMethod.MEAN,
                       trim: int = 1) -> dict[AppId, Fraction]:
    """Aggregate score per application (ordered by application id)."""
    totals: dict[AppId, list[Number]] = {}
    for sheet in sheets:
        totals.setdefault(sheet.app_id, []).append(sheet.total)
    return {app: aggregate(totals[app], method, trim) for app in sorted(totals)}


@dataclass(frozen=True)
class Spread:
    """Lowest and highest value given, and by whom (for a total or one item)."""

    key: str
    low: Fraction
    high: Fraction
    low_experts: tuple[str, ...]
    high_experts: tuple[str, ...]

    @property
    def range(self) -> Fraction:
        """Highest minus lowest."""
        return self.high - self.low


@dataclass(frozen=True)
class Disagreement:
    """An application whose experts differ enough to need a consensus discussion."""

    app_id: AppId
    total: Spread
    total_flagged: bool
    items: tuple[Spread, ...]


def disagreements(sheets: Iterable[ExpertSheet], total_threshold: Number,
                  item_threshold_pct: Number) -> list[Disagreement]:
    """Applications whose total range > threshold or some item's range > item threshold."""
    by_app: dict[AppId, list[ExpertSheet]] = {}
    for sheet in sheets:
        by_app.setdefault(sheet.app_id, []).append(sheet)
    total_limit, item_limit = exact(total_threshold), exact(item_threshold_pct)
    found: list[Disagreement] = []
    for app in sorted(by_app):
        app_sheets = by_app[app]
        total = _spread("total", [(s.expert, exact(s.total)) for s in app_sheets])
        item_keys = sorted({k for s in app_sheets for k in s.percentages}, key=_natural_key)
        items = tuple(
            spread for spread in (
                _spread(key, [(s.expert, Fraction(s.percentages[key]))
                              for s in app_sheets if key in s.percentages])
                for key in item_keys)
            if spread.range > item_limit)
        total_flagged = total.range > total_limit
        if total_flagged or items:
            found.append(Disagreement(app, total, total_flagged, items))
    return found


@dataclass(frozen=True)
class RankedEntry:
    """An application's place: competition ranking (1, 2, 2, 4), tied if it shares it."""

    app_id: AppId
    score: Fraction
    position: int
    tied: bool


@dataclass(frozen=True)
class TieAtCut:
    """Applications sharing the score at the cut, and how many places remain for them."""

    score: Fraction
    tied: tuple[AppId, ...]
    places: int


@dataclass(frozen=True)
class Cut:
    """The outcome of keeping the best n: selected, a tie at the cut, and the rest."""

    selected: tuple[AppId, ...]
    tie_at_cut: TieAtCut | None
    rest: tuple[AppId, ...]

    @property
    def ambiguous(self) -> bool:
        """True when a tie straddles the cut and people must decide."""
        return self.tie_at_cut is not None


def rank(scores: Mapping[AppId, Number]) -> tuple[RankedEntry, ...]:
    """Order by score (highest first), ties sharing a position and flagged."""
    ordered = sorted(((exact(s), app) for app, s in scores.items()), key=lambda p: (-p[0], p[1]))
    counts: dict[Fraction, int] = {}
    for score, _ in ordered:
        counts[score] = counts.get(score, 0) + 1
    entries: list[RankedEntry] = []
    for index, (score, app) in enumerate(ordered):
        position = index + 1 if not entries or entries[-1].score != score else entries[-1].position
        entries.append(RankedEntry(app, score, position, counts[score] > 1))
    return tuple(entries)


def cut(ranking: Sequence[RankedEntry], n: int) -> Cut:
    """Keep the best n of a ranking; a tie straddling place n is reported, not broken."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if len(ranking) <= n:
        return Cut(tuple(e.app_id for e in ranking), None, ())
    if n == 0:
        return Cut((), None, tuple(e.app_id for e in ranking))
    boundary = ranking[n - 1].score
    if ranking[n].score != boundary:
        return Cut(tuple(e.app_id for e in ranking[:n]), None,
                   tuple(e.app_id for e in ranking[n:]))
    above = tuple(e.app_id for e in ranking if e.score > boundary)
    tied = tuple(e.app_id for e in ranking if e.score == boundary)
    below = tuple(e.app_id for e in ranking if e.score < boundary)
    return Cut(above, TieAtCut(boundary, tied, n - len(above)), below)


@dataclass(frozen=True)
class CandidateSelection:
    """Who goes on from material review: the gate first, then at most max_count."""

    ranking: tuple[RankedEntry, ...]
    selected: tuple[AppId, ...]
    tie_at_cut: TieAtCut | None
    not_selected: tuple[AppId, ...]
    excluded_below_gate: tuple[AppId, ...]

    @property
    def ambiguous(self) -> bool:
        """True when a tie straddles the cut and people must decide."""
        return self.tie_at_cut is not None


def select_candidates(scores: Mapping[AppId, Number], gate: Number,
                      max_count: int, admitted: Collection[AppId] = ()) -> CandidateSelection:
    """Applications scoring >= gate (or admitted below it by the committee, 破格), best first, at most max_count."""
    ranking = rank(scores)
    threshold = exact(gate)
    passed = [e for e in ranking if e.score >= threshold or e.app_id in admitted]
    below = tuple(e.app_id for e in ranking if e.score < threshold and e.app_id not in admitted)
    outcome = cut(passed, max_count)
    return CandidateSelection(ranking, outcome.selected, outcome.tie_at_cut,
                              outcome.rest, below)


def composite(material: Number, site: Number, weight_material: Number,
              weight_site: Number) -> Fraction:
    """Weighted composite score; weights are relative (40/60 equals 0.4/0.6)."""
    wm, ws = exact(weight_material), exact(weight_site)
    if wm < 0 or ws < 0 or wm + ws == 0:
        raise ValueError("weights must be >= 0 and not both 0")
    return (exact(material) * wm + exact(site) * ws) / (wm + ws)


@dataclass(frozen=True)
class CompositeEntry:
    """An application's material, site and composite score with its place."""

    app_id: AppId
    material: Fraction
    site: Fraction
    composite: Fraction
    position: int
    tied: bool


@dataclass(frozen=True)
class CompositeRanking:
    """Composite ranking, plus applications lacking a material or a site score."""

    entries: tuple[CompositeEntry, ...]
    missing_site: tuple[AppId, ...]
    missing_material: tuple[AppId, ...]

    def top(self, n: int) -> Cut:
        """The best n by composite, a tie straddling place n reported, not broken."""
        return cut(tuple(RankedEntry(e.app_id, e.composite, e.position, e.tied)
                         for e in self.entries), n)


def rank_composite(material: Mapping[AppId, Number], site: Mapping[AppId, Number],
                   weight_material: Number, weight_site: Number) -> CompositeRanking:
    """Rank applications having both scores by their weighted composite."""
    both = set(material) & set(site)
    composites = {app: composite(material[app], site[app], weight_material, weight_site)
                  for app in both}
    entries = tuple(
        CompositeEntry(e.app_id, exact(material[e.app_id]), exact(site[e.app_id]),
                       e.score, e.position, e.tied)
        for e in rank(composites))
    return CompositeRanking(entries,
                            tuple(sorted(set(material) - both)),
                            tuple(sorted(set(site) - both)))


def _spread(key: str, values: list[tuple[str, Fraction]]) -> Spread:
    low = min(v for _, v in values)
    high = max(v for _, v in values)
    return Spread(key, low, high,
                  tuple(sorted(e for e, v in values if v == low)),
                  tuple(sorted(e for e, v in values if v == high)))


def _natural_key(key: str) -> tuple[Any, ...]:
    # "4.1.10" sorts after "4.1.9".
    parts = key.replace("-", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
