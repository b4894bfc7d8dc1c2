"""The scoring rubric: categories, items, percentage bands and step.

The rubric is configuration (GB/T 19580-2012 scored with GB/Z 19579-2012 is only the
default, supplied by the config layer); nothing here knows any particular maximum, band
or step. A category is a process category (assessed on 方法、展开、学习、整合) or a
results category (`process=False`, assessed on 水平、趋势、对比、整合); the expert is
shown the guidance of the item's kind.
A category without sub-items is modelled as one item whose maximum is the
category's maximum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Baldrige / GB/Z 19579 appendix C bands; the default of the dataclass field only.
DEFAULT_BANDS: tuple[tuple[int, int], ...] = (
    (0, 5), (10, 25), (30, 45), (50, 65), (70, 85), (90, 100),
)
PERCENT_MIN = 0
PERCENT_MAX = 100


@dataclass(frozen=True)
class Category:
    """A rubric category (e.g. 4.1 Leadership) with its maximum points."""

    key: str
    name: str
    max_points: int
    process: bool = True


@dataclass(frozen=True)
class RubricItem:
    """A scored item belonging to one category, with its maximum points."""

    key: str
    category: str
    name: str
    max_points: int


@dataclass(frozen=True)
class RubricProblem:
    """One reason a rubric configuration is unusable (code + data for the message)."""

    code: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Rubric:
    """Categories, items, the percentage bands and the percentage step."""

    categories: tuple[Category, ...]
    items: tuple[RubricItem, ...]
    bands: tuple[tuple[int, int], ...] = DEFAULT_BANDS
    step: int = 5

    @property
    def total_max(self) -> int:
        """Maximum total points: the sum of the category maxima."""
        return sum(c.max_points for c in self.categories)

    @property
    def item_keys(self) -> tuple[str, ...]:
        """Item keys in rubric order."""
        return tuple(i.key for i in self.items)

    def item(self, key: str) -> RubricItem | None:
        """The item with this key, or None."""
        return next((i for i in self.items if i.key == key), None)

    def category(self, key: str) -> Category | None:
        """The category with this key, or None."""
        return next((c for c in self.categories if c.key == key), None)

    def is_process(self, item_key: str) -> bool:
        """True for an item of a process category (方法、展开、学习、整合), False for a results item."""
        item = self.item(item_key)
        category = self.category(item.category) if item else None
        return category.process if category else True

    def items_in(self, category_key: str) -> tuple[RubricItem, ...]:
        """The items of one category, in rubric order."""
        return tuple(i for i in self.items if i.category == category_key)

    def validate(self) -> list[RubricProblem]:
        """All reasons this rubric cannot be used; empty when it is sound."""
        return [*_structure_problems(self), *_scale_problems(self)]


def _duplicates(keys: list[str]) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for key in keys:
        if key in seen and key not in dups:
            dups.append(key)
        seen.add(key)
    return dups


def _structure_problems(rubric: Rubric) -> list[RubricProblem]:
    problems: list[RubricProblem] = []
    if not rubric.categories:
        problems.append(RubricProblem("no_categories"))
    if not rubric.items:
        problems.append(RubricProblem("no_items"))
    for key in _duplicates([c.key for c in rubric.categories]):
        problems.append(RubricProblem("duplicate_category", {"key": key}))
    for key in _duplicates([i.key for i in rubric.items]):
        problems.append(RubricProblem("duplicate_item", {"key": key}))
    for entry in (*rubric.categories, *rubric.items):
        if not entry.key.strip():
            problems.append(RubricProblem("empty_key", {"name": entry.name}))
        if not isinstance(entry.max_points, int) or entry.max_points <= 0:
            problems.append(RubricProblem(
                "non_positive_max", {"key": entry.key, "max_points": entry.max_points}))
    category_keys = {c.key for c in rubric.categories}
    for item in rubric.items:
        if item.category not in category_keys:
            problems.append(RubricProblem(
                "unknown_category", {"item": item.key, "category": item.category}))
    seen_categories: set[str] = set()
    for category in rubric.categories:
        if category.key in seen_categories:
            continue
        seen_categories.add(category.key)
        items = rubric.items_in(category.key)
        if not items:
            problems.append(RubricProblem("category_without_items", {"category": category.key}))
            continue
        item_sum = sum(i.max_points for i in items)
        if item_sum != category.max_points:
            problems.append(RubricProblem("category_sum_mismatch", {
                "category": category.key,
                "max_points": category.max_points,
                "items_sum": item_sum,
            }))
    return problems


def _scale_problems(rubric: Rubric) -> list[RubricProblem]:
    step = rubric.step
    if not isinstance(step, int) or step <= 0 or PERCENT_MAX % step != 0:
        # Without a sound step the band checks below are meaningless.
        return [RubricProblem("invalid_step", {"step": step})]
    problems: list[RubricProblem] = []
    if not rubric.bands:
        return [RubricProblem("no_bands")]
    for index, (low, high) in enumerate(rubric.bands):
        data = {"band": index, "low": low, "high": high}
        if not (PERCENT_MIN <= low <= PERCENT_MAX and PERCENT_MIN <= high <= PERCENT_MAX):
            problems.append(RubricProblem("band_out_of_range", data))
        elif low > high:
            problems.append(RubricProblem("band_inverted", data))
        elif low % step or high % step:
            problems.append(RubricProblem("band_not_on_step", {**data, "step": step}))
    if problems:
        return problems
    for index in range(1, len(rubric.bands)):
        if rubric.bands[index][0] <= rubric.bands[index - 1][1]:
            problems.append(RubricProblem(
                "bands_overlap_or_unordered", {"band": index - 1, "next": index}))
    if problems:
        return problems
    # Every selectable percentage must belong to exactly one band.
    for percent in range(PERCENT_MIN, PERCENT_MAX + 1, step):
        if not any(low <= percent <= high for low, high in rubric.bands):
            problems.append(RubricProblem("percent_outside_bands", {"percent": percent}))
    return problems
