"""Parsing and validating an expert's score entry; exact item and category points.

One rule that cannot mislead (issue 11.5): `%` marks a percentage ("60%", "６０％");
a number with a points unit ("30分", "30pts", "27.5 points") or a bare number ("30")
is points, and points must equal the item maximum times a valid percentage. A bare
number above the item's maximum is not guessed to be a percentage: it is asked back
(BARE_ABOVE_MAX, with the item's maximum). Errors are values (EntryError) with a code
and data; their wording lives in templates.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from workflows.scoring.rubric import PERCENT_MAX, PERCENT_MIN, Rubric, RubricItem


class EntryCode(StrEnum):
    """Why one entry of a score sheet was rejected."""

    NOT_A_NUMBER = "not_a_number"
    NOT_IN_STEP = "not_in_step"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_ITEM = "unknown_item"
    DUPLICATE_ITEM = "duplicate_item"
    POINTS_NOT_ON_STEP = "points_not_on_step"
    MALFORMED = "malformed"
    BARE_ABOVE_MAX = "bare_above_max"


@dataclass(frozen=True)
class EntryError:
    """A rejected entry: the item it concerns, a code and JSON-friendly data."""

    item_key: str
    code: EntryCode
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SheetEntry:
    """The outcome of parsing a whole sheet message."""

    percentages: dict[str, int]
    errors: tuple[EntryError, ...]
    missing: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no entry was rejected (items may still be missing)."""
        return not self.errors

    @property
    def complete(self) -> bool:
        """True when every rubric item has a valid percentage."""
        return not self.errors and not self.missing


@dataclass(frozen=True)
class SheetScore:
    """Exact points per category (rubric order) and the total."""

    by_category: dict[str, Fraction]
    total: Fraction


_VALUE = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>%|分|pts|pt|points|point)?$",
    re.IGNORECASE,
)
_UNIT_AFTER_SPACE = re.compile(r"(\d)\s+(%|分|pts|pt|points|point)(?![A-Za-z])", re.IGNORECASE)
_PAIR_SEPARATOR = re.compile(r"\s*[:=]\s*")
_ENTRY_SEPARATOR = re.compile(r"[\s,;、]+")


def normalize(text: str) -> str:
    """Fold full-width digits and punctuation (％ ： ， ；) to ASCII and trim."""
    return unicodedata.normalize("NFKC", text).strip()


def decimal_text(value: Fraction) -> str:
    """Exact decimal text of a fraction with a terminating expansion ("27.5"); stored values, not display
    (display is `points_text`: one precision everywhere)."""
    if value.denominator == 1:
        return str(value.numerator)
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f")


def points_text(value: Fraction | int | str | None, places: int = 2) -> str:
    """A score for display, rounded half-up to two decimals ("814.25", "689.00"): the one precision every
    chat message, report and ranking uses (issue 11.9). Empty for None or ""."""
    if value is None or value == "":
        return ""
    exact = Fraction(Decimal(value)) if isinstance(value, str) else Fraction(value)
    quant = Decimal(1).scaleb(-places)
    return str((Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(quant, ROUND_HALF_UP))


def item_points(max_points: int, percent: int | Fraction) -> Fraction:
    """Exact points of an item: maximum × percentage."""
    return Fraction(max_points) * Fraction(percent) / PERCENT_MAX


def band_of(percent: int, bands: tuple[tuple[int, int], ...]) -> int:
    """Index of the band containing the percentage; ValueError if none does."""
    for index, (low, high) in enumerate(bands):
        if low <= percent <= high:
            return index
    raise ValueError(f"percent {percent} is in no band")


def parse_item_value(item: RubricItem, raw: str, step: int) -> int | EntryError:
    """The percentage an entry for this item stands for, or why it is invalid."""
    text = normalize(raw)
    match = _VALUE.match(text)
    if match is None:
        return EntryError(item.key, EntryCode.NOT_A_NUMBER, {"raw": raw})
    try:
        number = Fraction(Decimal(match["number"]))
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        return EntryError(item.key, EntryCode.NOT_A_NUMBER, {"raw": raw})
    unit = (match["unit"] or "").lower()
    if unit == "%":
        return _check_percent(item, raw, number, step)
    if not unit and number > item.max_points:
        # A bare number is points; above the maximum it might have been meant as a percentage: ask back.
        return EntryError(item.key, EntryCode.BARE_ABOVE_MAX, {
            "raw": raw, "value": decimal_text(number), "max_points": item.max_points,
            "as_percent": PERCENT_MIN <= number <= PERCENT_MAX and number.denominator == 1
                          and number % step == 0})
    return _points_to_percent(item, raw, number, step)


def parse_sheet(rubric: Rubric, text: str) -> SheetEntry:
    """Parse "4.1.2=60% 4.1.3=55% …", collecting every error and the missing items."""
    values: dict[str, list[str]] = {}
    first_seen: dict[str, int] = {}
    errors: list[tuple[int, EntryError]] = []
    for index, token in enumerate(_tokens(text)):
        key, sep, raw = token.partition("=")
        if not sep or not key:
            errors.append((index, EntryError(key if sep else token, EntryCode.MALFORMED,
                                             {"raw": token})))
            continue
        values.setdefault(key, []).append(raw)
        first_seen.setdefault(key, index)
    percentages: dict[str, int] = {}
    for key, raws in values.items():
        item = rubric.item(key)
        if item is None:
            error = EntryError(key, EntryCode.UNKNOWN_ITEM, {"raw": raws[0]})
        elif len(raws) > 1:
            # Two values for one item: neither is kept, the expert must choose.
            error = EntryError(key, EntryCode.DUPLICATE_ITEM, {"values": list(raws)})
        else:
            result = parse_item_value(item, raws[0], rubric.step)
            if not isinstance(result, EntryError):
                percentages[key] = result
                continue
            error = result
        errors.append((first_seen[key], error))
    mentioned = set(values)
    missing = tuple(k for k in rubric.item_keys if k not in mentioned)
    ordered = {k: percentages[k] for k in rubric.item_keys if k in percentages}
    return SheetEntry(ordered, tuple(e for _, e in sorted(errors, key=lambda p: p[0])), missing)


def subtotals(rubric: Rubric, percentages: dict[str, int]) -> SheetScore:
    """Exact category subtotals and total of a complete sheet."""
    unknown = sorted(set(percentages) - set(rubric.item_keys))
    missing = [k for k in rubric.item_keys if k not in percentages]
    if unknown or missing:
        raise ValueError(f"sheet does not match rubric: missing={missing} unknown={unknown}")
    by_category = {
        c.key: sum((item_points(i.max_points, percentages[i.key]) for i in rubric.items_in(c.key)),
                   Fraction(0))
        for c in rubric.categories
    }
    return SheetScore(by_category, sum(by_category.values(), Fraction(0)))


def _tokens(text: str) -> list[str]:
    text = normalize(text).replace("、", ",")
    text = _UNIT_AFTER_SPACE.sub(r"\1\2", text)
    text = _PAIR_SEPARATOR.sub("=", text)
    return [t for t in _ENTRY_SEPARATOR.split(text) if t]


def _neighbours(value: Fraction, step: int) -> tuple[int, int]:
    lower = (value // step) * step
    upper = lower if lower == value else lower + step
    return max(int(lower), PERCENT_MIN), min(int(upper), PERCENT_MAX)


def _check_percent(item: RubricItem, raw: str, percent: Fraction, step: int) -> int | EntryError:
    if not PERCENT_MIN <= percent <= PERCENT_MAX:
        return EntryError(item.key, EntryCode.OUT_OF_RANGE, {
            "raw": raw, "unit": "percent", "value": decimal_text(percent),
            "min": PERCENT_MIN, "max": PERCENT_MAX,
        })
    if percent.denominator != 1 or percent % step:
        lower, upper = _neighbours(percent, step)
        return EntryError(item.key, EntryCode.NOT_IN_STEP, {
            "raw": raw, "value": decimal_text(percent), "step": step,
            "lower": lower, "upper": upper,
        })
    return int(percent)


def _points_to_percent(item: RubricItem, raw: str, points: Fraction,
                       step: int) -> int | EntryError:
    if not 0 <= points <= item.max_points:
        return EntryError(item.key, EntryCode.OUT_OF_RANGE, {
            "raw": raw, "unit": "points", "value": decimal_text(points),
            "min": 0, "max": item.max_points,
        })
    percent = points * PERCENT_MAX / item.max_points
    if percent.denominator != 1 or percent % step:
        lower, upper = _neighbours(percent, step)
        return EntryError(item.key, EntryCode.POINTS_NOT_ON_STEP, {
            "raw": raw, "points": decimal_text(points), "max_points": item.max_points,
            "step": step,
            "lower": decimal_text(item_points(item.max_points, lower)),
            "upper": decimal_text(item_points(item.max_points, upper)),
        })
    return int(percent)
