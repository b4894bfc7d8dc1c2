"""Aggregation, dispersion flags, the 450 gate and top-6 cut, composite 40/60 and top 5."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.scoring.ranking import (
    AggregateMethod,
    ExpertSheet,
    TieAtCut,
    aggregate,
    application_scores,
    composite,
    cut,
    disagreements,
    exact,
    rank,
    rank_composite,
    select_candidates,
)

GATE = 450
MAX_CANDIDATES = 6
W_MATERIAL, W_SITE = 40, 60
TOP = 5


# --- aggregation -----------------------------------------------------------------

def test_mean_is_exact():
    assert aggregate([450, 460, 475]) == Fraction(1385, 3)
    assert aggregate([Decimal("472.5"), 480]) == Fraction(1905, 4)


def test_trimmed_mean_drops_highest_and_lowest():
    # 400 and 600 dropped: (450 + 460 + 470) / 3
    assert aggregate([600, 450, 400, 470, 460], "trimmed_mean") == 460
    # trim 2 of 5 leaves the median
    assert aggregate([600, 450, 400, 470, 460], AggregateMethod.TRIMMED_MEAN, trim=2) == 460
    assert aggregate([1, 2, 3, 100, 200], "trimmed_mean", trim=1) == 35


def test_trimmed_mean_falls_back_to_mean_when_too_few():
    # Needs 2*trim+1 = 3 totals; with 2 it is the plain mean.
    assert aggregate([400, 500], "trimmed_mean") == 450
    assert aggregate([400, 500, 600, 700], "trimmed_mean", trim=2) == 550
    assert aggregate([400, 500, 900], "trimmed_mean", trim=1) == 500
    assert aggregate([400, 500, 900], "trimmed_mean", trim=0) == 600


@pytest.mark.parametrize("args", [([],), ([1], "median"), ([1], "mean", -1)])
def test_aggregate_rejects_bad_input(args):
    with pytest.raises(ValueError):
        aggregate(*args)


def test_floats_from_config_are_read_as_decimals():
    assert exact(0.4) == Fraction(2, 5)
    with pytest.raises(TypeError):
        exact(True)


def test_application_scores_group_sheets():
    sheets = [ExpertSheet("B", "e1", 500), ExpertSheet("A", "e1", 400),
              ExpertSheet("A", "e2", 451), ExpertSheet("B", "e2", Decimal("497.5"))]
    assert application_scores(sheets) == {"A": Fraction(851, 2), "B": Fraction(1995, 4)}
    assert list(application_scores(sheets)) == ["A", "B"]


# --- dispersion ------------------------------------------------------------------

def test_disagreements_flag_total_range_and_item_range():
    sheets = [
        # A: totals 440..520 (range 80 > 60); items agree.
        ExpertSheet("A", "e1", 440, {"4.1.2": 50, "4.7.2": 40}),
        ExpertSheet("A", "e2", 520, {"4.1.2": 55, "4.7.2": 45}),
        ExpertSheet("A", "e3", 480, {"4.1.2": 50, "4.7.2": 40}),
        # B: totals close (range 20), but item 4.7.2 ranges 30..60 (30 > 20).
        ExpertSheet("B", "e1", 500, {"4.1.2": 50, "4.7.2": 30}),
        ExpertSheet("B", "e2", 510, {"4.1.2": 50, "4.7.2": 60}),
        ExpertSheet("B", "e3", 490, {"4.1.2": 50, "4.7.2": 30}),
        # C: totals range exactly 60 and item range exactly 20: not flagged (strictly greater).
        ExpertSheet("C", "e1", 450, {"4.1.2": 40}),
        ExpertSheet("C", "e2", 510, {"4.1.2": 60}),
        # D: a single expert never disagrees.
        ExpertSheet("D", "e1", 100, {"4.1.2": 0}),
    ]
    found = disagreements(sheets, total_threshold=60, item_threshold_pct=20)
    assert [d.app_id for d in found] == ["A", "B"]
    a, b = found
    assert a.total_flagged and a.items == ()
    assert (a.total.low, a.total.high, a.total.range) == (440, 520, 80)
    assert (a.total.low_experts, a.total.high_experts) == (("e1",), ("e2",))
    assert not b.total_flagged
    assert len(b.items) == 1
    item = b.items[0]
    assert (item.key, item.low, item.high, item.range) == ("4.7.2", 30, 60, 30)
    assert item.low_experts == ("e1", "e3") and item.high_experts == ("e2",)


def test_disagreement_items_in_natural_order():
    sheets = [ExpertSheet("A", "e1", 0, {"4.1.10": 0, "4.1.9": 0}),
              ExpertSheet("A", "e2", 0, {"4.1.10": 100, "4.1.9": 100})]
    found = disagreements(sheets, 0, 50)
    assert [s.key for s in found[0].items] == ["4.1.9", "4.1.10"]


# --- ranking, gate and cut --------------------------------------------------------

def test_rank_reports_ties_with_shared_positions():
    ranking = rank({"C": 500, "A": 520, "B": 500, "D": 480})
    assert [(e.app_id, e.position, e.tied) for e in ranking] == [
        ("A", 1, False), ("B", 2, True), ("C", 2, True), ("D", 4, False)]


def test_select_candidates_gate_and_cut_without_ties():
    scores = {"A": 600, "B": 580, "C": 560, "D": 540, "E": 520, "F": 500, "G": 480,
              "H": 450, "I": Fraction(899, 2), "J": 300}
    result = select_candidates(scores, GATE, MAX_CANDIDATES)
    assert result.selected == ("A", "B", "C", "D", "E", "F")
    assert result.not_selected == ("G", "H")
    # 449.5 misses the 450 gate; exactly 450 passes.
    assert result.excluded_below_gate == ("I", "J")
    assert not result.ambiguous and result.tie_at_cut is None


def test_select_candidates_fewer_than_max_above_gate():
    result = select_candidates({"A": 451, "B": 449, "C": 700}, GATE, MAX_CANDIDATES)
    assert result.selected == ("C", "A")
    assert result.excluded_below_gate == ("B",)
    assert result.not_selected == () and not result.ambiguous


def test_tie_straddling_the_sixth_place_is_reported_not_broken():
    scores = {"A": 600, "B": 590, "C": 580, "D": 570, "E": 500, "F": 500, "G": 500,
              "H": 460, "I": 400}
    result = select_candidates(scores, GATE, MAX_CANDIDATES)
    assert result.ambiguous
    assert result.selected == ("A", "B", "C", "D")
    assert result.tie_at_cut == TieAtCut(Fraction(500), ("E", "F", "G"), 2)
    assert result.not_selected == ("H",)
    assert result.excluded_below_gate == ("I",)


def test_tie_inside_the_cut_is_not_ambiguous():
    scores = {"A": 600, "B": 600, "C": 580, "D": 570, "E": 560, "F": 550, "G": 540}
    result = select_candidates(scores, GATE, MAX_CANDIDATES)
    assert not result.ambiguous
    assert result.selected == ("A", "B", "C", "D", "E", "F")
    assert [e.tied for e in result.ranking[:2]] == [True, True]


def test_tie_exactly_filling_the_cut_is_not_ambiguous():
    scores = {"A": 600, "B": 590, "C": 580, "D": 570, "E": 500, "F": 500, "G": 460}
    result = select_candidates(scores, GATE, MAX_CANDIDATES)
    assert not result.ambiguous
    assert result.selected == ("A", "B", "C", "D", "E", "F")


def test_tie_at_the_gate_score_straddling_cut():
    scores = {k: 450 for k in "ABCDEFGH"}
    result = select_candidates(scores, GATE, MAX_CANDIDATES)
    assert result.selected == ()
    assert result.tie_at_cut == TieAtCut(Fraction(450), tuple("ABCDEFGH"), 6)


def test_cut_edge_cases():
    ranking = rank({"A": 1, "B": 1})
    assert cut(ranking, 0).selected == () and cut(ranking, 0).rest == ("A", "B")
    assert cut((), 3).selected == ()
    with pytest.raises(ValueError):
        cut(ranking, -1)


# --- composite -----------------------------------------------------------------------

def test_composite_40_60_exact():
    assert composite(500, 600, W_MATERIAL, W_SITE) == 560
    assert composite(Decimal("472.5"), 515, W_MATERIAL, W_SITE) == 498
    assert composite(Fraction(1385, 3), 500, W_MATERIAL, W_SITE) == Fraction(1454, 3)
    # Weights are relative: 0.4/0.6 and 2/3 mean the same as 40/60.
    assert composite(500, 600, 0.4, 0.6) == composite(500, 600, 2, 3) == 560


@pytest.mark.parametrize("weights", [(0, 0), (-1, 2)])
def test_composite_rejects_bad_weights(weights):
    with pytest.raises(ValueError):
        composite(1, 1, *weights)


def test_top_five_without_ties():
    material = {"A": 600, "B": 500, "C": 550, "D": 520, "E": 480, "F": 490, "G": 460}
    site = {"A": 560, "B": 600, "C": 540, "D": 540, "E": 560, "F": 540, "G": 550}
    ranking = rank_composite(material, site, W_MATERIAL, W_SITE)
    # e.g. A = 0.4 × 600 + 0.6 × 560 = 240 + 336
    assert [(e.app_id, e.composite) for e in ranking.entries] == [
        ("A", 576), ("B", 560), ("C", 544), ("D", 532), ("E", 528), ("F", 520), ("G", 514)]
    top = ranking.top(TOP)
    assert top.selected == ("A", "B", "C", "D", "E") and not top.ambiguous
    assert top.rest == ("F", "G")


def test_top_five_with_three_way_tie_at_fifth_place():
    material = {"A": 600, "B": 580, "C": 560, "D": 540, "E": 500, "F": 530, "G": 470,
                "H": 450}
    site = {"A": 600, "B": 580, "C": 560, "D": 540, "E": 540, "F": 520, "G": 560,
            "H": 500}
    # E = 200 + 324, F = 212 + 312, G = 188 + 336: all 524; H = 180 + 300 = 480
    ranking = rank_composite(material, site, W_MATERIAL, W_SITE)
    assert [(e.app_id, e.position, e.tied) for e in ranking.entries][4:] == [
        ("E", 5, True), ("F", 5, True), ("G", 5, True), ("H", 8, False)]
    top = ranking.top(TOP)
    assert top.ambiguous
    assert top.selected == ("A", "B", "C", "D")
    assert top.tie_at_cut == TieAtCut(Fraction(524), ("E", "F", "G"), 1)
    assert top.rest == ("H",)


def test_tie_inside_top_five_and_straddling_fourth_place():
    material = {"A": 600, "B": 580, "C": 560, "D": 550, "E": 520, "F": 540}
    site = {"A": 600, "B": 580, "C": 560, "D": 500, "E": 520, "F": 500}
    # D = 220 + 300 = 520, E = 208 + 312 = 520, F = 216 + 300 = 516
    ranking = rank_composite(material, site, W_MATERIAL, W_SITE)
    assert [(e.app_id, e.composite, e.position, e.tied) for e in ranking.entries] == [
        ("A", 600, 1, False), ("B", 580, 2, False), ("C", 560, 3, False),
        ("D", 520, 4, True), ("E", 520, 4, True), ("F", 516, 6, False)]
    assert not ranking.top(TOP).ambiguous
    assert ranking.top(TOP).selected == ("A", "B", "C", "D", "E")
    top4 = ranking.top(4)
    assert top4.ambiguous and top4.selected == ("A", "B", "C")
    assert top4.tie_at_cut == TieAtCut(Fraction(520), ("D", "E"), 1)
    assert top4.rest == ("F",)


def test_composite_with_fractional_aggregates():
    ranking = rank_composite({"A": Fraction(1385, 3)}, {"A": Decimal("502.5")},
                             W_MATERIAL, W_SITE)
    # 0.4 × 1385/3 + 0.6 × 502.5 = 554/3 + 301.5
    assert ranking.entries[0].composite == Fraction(554, 3) + Fraction(603, 2)


def test_rank_composite_reports_applications_missing_a_score():
    ranking = rank_composite({"A": 500, "B": 480}, {"A": 520, "C": 600}, W_MATERIAL, W_SITE)
    assert [e.app_id for e in ranking.entries] == ["A"]
    assert ranking.missing_site == ("B",) and ranking.missing_material == ("C",)


# --- order invariance (property) ---------------------------------------------------

APP_IDS = ["app1", "app2", "app3", "app4", "app5", "app6", "app7", "app8"]
# Totals on a coarse grid so that ties (the interesting case) are frequent.
TOTALS = st.integers(800, 1200).map(lambda n: Fraction(n * 5, 10))
ITEM_PCT = st.sampled_from([0, 30, 45, 50, 60, 90])


@st.composite
def sheet_lists(draw):
    sheets = []
    for app in draw(st.lists(st.sampled_from(APP_IDS), min_size=1, max_size=8, unique=True)):
        for n in range(draw(st.integers(1, 5))):
            sheets.append(ExpertSheet(app, f"e{n}", draw(TOTALS),
                                      {"4.1.2": draw(ITEM_PCT), "4.7.2": draw(ITEM_PCT)}))
    return sheets


def arrival_order_scores(sheets, method, trim):
    # Mimics a service collecting totals as sheets arrive (dict in arrival order).
    totals = {}
    for sheet in sheets:
        totals.setdefault(sheet.app_id, []).append(sheet.total)
    return {app: aggregate(values, method, trim) for app, values in totals.items()}


def outcome(sheets, method, trim, max_count):
    scores = arrival_order_scores(sheets, method, trim)
    site = {app: 1000 - score for app, score in reversed(list(scores.items()))}
    ranking = rank_composite(scores, site, W_MATERIAL, W_SITE)
    return (
        application_scores(sheets, method, trim),
        sorted(scores.items()),
        rank(scores),
        select_candidates(scores, GATE, max_count),
        ranking,
        ranking.top(max_count),
        disagreements(sheets, 50, 20),
    )


@settings(max_examples=200, deadline=None)
@given(sheet_lists(), st.data(), st.sampled_from(list(AggregateMethod)),
       st.integers(0, 2), st.integers(0, 7))
def test_results_do_not_depend_on_the_order_sheets_arrive_in(sheets, data, method, trim,
                                                              max_count):
    permuted = data.draw(st.permutations(sheets))
    assert outcome(permuted, method, trim, max_count) == outcome(sheets, method, trim, max_count)


@settings(max_examples=200, deadline=None)
@given(sheet_lists(), st.integers(0, 7))
def test_cut_never_silently_breaks_a_tie(sheets, max_count):
    scores = application_scores(sheets)
    result = select_candidates(scores, GATE, max_count)
    passed = [a for a, s in scores.items() if s >= GATE]
    assert len(result.selected) <= max_count
    assert set(result.selected) | set(result.not_selected) | set(
        result.tie_at_cut.tied if result.tie_at_cut else ()) == set(passed)
    chosen = {scores[a] for a in result.selected}
    left = {scores[a] for a in result.not_selected}
    # No score is both selected and left out; a tied group is all in, all out, or flagged.
    assert not chosen & left
    if result.tie_at_cut:
        tie = result.tie_at_cut
        assert len(tie.tied) > tie.places > 0
        assert len(result.selected) + tie.places == max_count
        assert all(scores[a] == tie.score for a in tie.tied)
