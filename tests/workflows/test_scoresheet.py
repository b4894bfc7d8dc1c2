"""Entering scores: every accepted spelling, every rejection code, exact points."""

from fractions import Fraction

import pytest

from tests.workflows.gbt19580 import BANDS, RUBRIC, sheet_text
from workflows.scoring.scoresheet import (
    EntryCode,
    EntryError,
    band_of,
    decimal_text,
    item_points,
    parse_item_value,
    parse_sheet,
    subtotals,
)

ITEM_50 = RUBRIC.item("4.1.2")   # max 50
ITEM_15 = RUBRIC.item("4.4.3")   # max 15
STEP = RUBRIC.step


@pytest.mark.parametrize("raw, expected", [
    ("60%", 60), ("30", 60), (" 30 ", 60), ("27.5", 55), ("６０％", 60), ("60 %", 60), ("60.0%", 60),
    ("0", 0), ("100%", 100), ("30分", 60), ("30 分", 60), ("30pts", 60), ("30 PTS", 60),
    ("30points", 60), ("27.5分", 55), ("50分", 100), ("0分", 0), ("３０分", 60),
])
def test_accepted_spellings(raw, expected):
    assert parse_item_value(ITEM_50, raw, STEP) == expected


def test_points_on_an_odd_maximum():
    # max 15: 5 % is 0.75 points, 55 % is 8.25 points.
    assert parse_item_value(ITEM_15, "0.75分", STEP) == 5
    assert parse_item_value(ITEM_15, "8.25分", STEP) == 55


@pytest.mark.parametrize("raw", ["abc", "", "%", "六十", "60%%", "1e2", "60 percent"])
def test_not_a_number(raw):
    assert parse_item_value(ITEM_50, raw, STEP) == EntryError(
        "4.1.2", EntryCode.NOT_A_NUMBER, {"raw": raw})


def test_not_in_step_suggests_neighbours():
    assert parse_item_value(ITEM_50, "62%", STEP) == EntryError(
        "4.1.2", EntryCode.NOT_IN_STEP,
        {"raw": "62%", "value": "62", "step": 5, "lower": 60, "upper": 65})
    error = parse_item_value(ITEM_50, "62.5%", STEP)
    assert (error.code, error.data["lower"], error.data["upper"]) == ("not_in_step", 60, 65)


ITEM_30 = RUBRIC.item("4.1.3")   # max 30


def test_a_bare_number_is_points_and_a_percent_sign_marks_a_percentage():
    # Issue 11.5: "15" on a 30-point item was stored as 15 % (4.5 points). It is 15 points (50 %) now.
    assert parse_item_value(ITEM_30, "15", STEP) == 50
    assert parse_item_value(ITEM_30, "15分", STEP) == 50
    assert parse_item_value(ITEM_30, "15%", STEP) == 15
    assert parse_item_value(ITEM_30, "30", STEP) == 100
    assert parse_item_value(ITEM_30, "0", STEP) == 0


@pytest.mark.parametrize("raw, as_percent", [("60", True), ("30.5", False), ("99", False), ("100", True), ("150", False)])
def test_a_bare_number_above_the_maximum_is_asked_back_not_guessed(raw, as_percent):
    assert parse_item_value(ITEM_30, raw, STEP) == EntryError(
        "4.1.3", EntryCode.BARE_ABOVE_MAX,
        {"raw": raw, "value": raw, "max_points": 30, "as_percent": as_percent})


def test_a_bare_number_within_the_maximum_but_off_the_step_suggests_points():
    error = parse_item_value(ITEM_30, "16", STEP)
    assert (error.code, error.data["lower"], error.data["upper"]) == ("points_not_on_step", "15", "16.5")


@pytest.mark.parametrize("raw, unit, value, high", [
    ("105%", "percent", "105", 100), ("-5%", "percent", "-5", 100),
    ("55分", "points", "55", 50), ("-1分", "points", "-1", 50),
])
def test_out_of_range(raw, unit, value, high):
    assert parse_item_value(ITEM_50, raw, STEP) == EntryError(
        "4.1.2", EntryCode.OUT_OF_RANGE,
        {"raw": raw, "unit": unit, "value": value, "min": 0, "max": high})


def test_points_not_on_step_suggests_neighbouring_points():
    # 33 of 50 is 66 %: the nearest valid entries are 32.5 (65 %) and 35 (70 %).
    assert parse_item_value(ITEM_50, "33分", STEP) == EntryError(
        "4.1.2", EntryCode.POINTS_NOT_ON_STEP,
        {"raw": "33分", "points": "33", "max_points": 50, "step": 5,
         "lower": "32.5", "upper": "35"})
    # 1 of 15 is 6.67 %: 0.75 (5 %) and 1.5 (10 %).
    error = parse_item_value(ITEM_15, "1pt", STEP)
    assert (error.code, error.data["lower"], error.data["upper"]) == (
        "points_not_on_step", "0.75", "1.5")


FULL = {key: 60 for key in RUBRIC.item_keys}


def test_whole_sheet_plain():
    entry = parse_sheet(RUBRIC, sheet_text(FULL))
    assert entry.complete and entry.ok
    assert entry.percentages == FULL


def test_whole_sheet_tolerates_separators_and_full_width():
    text = ("4.1.2：６０％，4.1.3:55%、4.1.4 = 18分；4.2.2=20\n4.2.3=45%\r\n"
            "4.3.2 ： 70 ％ 4.3.3=35 pts")
    entry = parse_sheet(RUBRIC, text)
    assert entry.errors == ()
    assert entry.percentages == {"4.1.2": 60, "4.1.3": 55, "4.1.4": 60, "4.2.2": 50,
                                 "4.2.3": 45, "4.3.2": 70, "4.3.3": 70}
    assert entry.missing == RUBRIC.item_keys[7:]
    assert entry.ok and not entry.complete


def test_whole_sheet_collects_every_error_and_missing_items():
    text = ("4.1.2=62% 4.1.3=abc 4.1.4=120% 4.2.2=33分 4.2.3=50% 9.9=50% "
            "4.3.2 =28 4.3.3=70% 4.2.3=55% 4.4.2 =3 4.4.3 4.4.4=25")
    entry = parse_sheet(RUBRIC, text)
    assert [(e.item_key, e.code) for e in entry.errors] == [
        ("4.1.2", EntryCode.NOT_IN_STEP),
        ("4.1.3", EntryCode.NOT_A_NUMBER),
        ("4.1.4", EntryCode.OUT_OF_RANGE),
        ("4.2.2", EntryCode.POINTS_NOT_ON_STEP),
        ("4.2.3", EntryCode.DUPLICATE_ITEM),
        ("9.9", EntryCode.UNKNOWN_ITEM),
        ("4.4.3", EntryCode.MALFORMED),
        ("4.4.4", EntryCode.BARE_ABOVE_MAX),
    ]
    data = {e.item_key: e.data for e in entry.errors}
    assert data["4.2.2"] == {"raw": "33分", "points": "33", "max_points": 40, "step": 5,
                             "lower": "32", "upper": "34"}
    assert data["4.2.3"] == {"values": ["50%", "55%"]}
    assert data["9.9"] == {"raw": "50%"}
    assert data["4.4.3"] == {"raw": "4.4.3"}
    # Rejected items are reported as errors, not again as missing.
    assert entry.percentages == {"4.3.2": 70, "4.3.3": 70, "4.4.2": 5}
    assert entry.missing == ("4.4.3", "4.4.5", "4.4.6", "4.4.7", "4.5.2", "4.5.3",
                             "4.6.2", "4.6.3", "4.7.2", "4.7.3", "4.7.4", "4.7.5", "4.7.6",
                             "4.7.7")
    assert not entry.ok and not entry.complete


def test_value_without_key_is_malformed():
    entry = parse_sheet(RUBRIC, "=60% 60%")
    assert [(e.item_key, e.code, e.data) for e in entry.errors] == [
        ("", EntryCode.MALFORMED, {"raw": "=60%"}),
        ("60%", EntryCode.MALFORMED, {"raw": "60%"}),
    ]
    assert entry.missing == RUBRIC.item_keys


def test_empty_message_misses_everything():
    entry = parse_sheet(RUBRIC, "  \n ")
    assert entry.ok and entry.missing == RUBRIC.item_keys and entry.percentages == {}


@pytest.mark.parametrize("percent, band", [
    (0, 0), (5, 0), (10, 1), (25, 1), (30, 2), (45, 2), (50, 3), (65, 3), (70, 4), (85, 4),
    (90, 5), (100, 5),
])
def test_band_of(percent, band):
    assert band_of(percent, BANDS) == band


def test_band_of_rejects_a_percent_in_no_band():
    with pytest.raises(ValueError):
        band_of(7, BANDS)


def test_item_points_are_exact():
    assert item_points(50, 55) == Fraction(55, 2)
    assert item_points(15, 5) == Fraction(3, 4)
    assert item_points(400, 45) == 180
    assert decimal_text(item_points(15, 55)) == "8.25"
    assert decimal_text(Fraction(472)) == "472"


def test_subtotals_of_a_hand_computed_sheet():
    # Process items 4.1-4.6 at 55 %, results items 4.7 at 40 %.
    percentages = {k: (40 if k.startswith("4.7") else 55) for k in RUBRIC.item_keys}
    score = subtotals(RUBRIC, percentages)
    assert score.by_category == {
        "4.1": Fraction(121, 2), "4.2": Fraction(99, 2), "4.3": Fraction(99, 2),
        "4.4": Fraction(143, 2), "4.5": 55, "4.6": 44, "4.7": 160}
    # 600 × 55 % + 400 × 40 % = 330 + 160
    assert score.total == 490


def test_subtotals_with_mixed_percentages():
    percentages = dict.fromkeys(RUBRIC.item_keys, 0)
    percentages.update({"4.1.2": 55, "4.4.3": 5, "4.7.7": 100})
    score = subtotals(RUBRIC, percentages)
    assert score.by_category["4.1"] == Fraction(55, 2)
    assert score.by_category["4.4"] == Fraction(3, 4)
    assert score.by_category["4.7"] == 50
    assert score.total == Fraction(55, 2) + Fraction(3, 4) + 50 == Fraction(313, 4)


def test_subtotals_reject_incomplete_or_foreign_sheets():
    partial = {k: 50 for k in RUBRIC.item_keys[:-1]}
    with pytest.raises(ValueError):
        subtotals(RUBRIC, partial)
    with pytest.raises(ValueError):
        subtotals(RUBRIC, {**FULL, "9.9": 50})


def test_full_sheet_round_trip_to_total():
    entry = parse_sheet(RUBRIC, sheet_text(FULL))
    assert subtotals(RUBRIC, entry.percentages).total == 600
