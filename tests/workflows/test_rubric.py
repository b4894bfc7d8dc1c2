"""The rubric configuration: the default is sound, each kind of mistake is named."""

import ast
import dataclasses
import pathlib

import pytest

from tests.workflows.gbt19580 import BANDS, CATEGORIES, ITEMS, RUBRIC
from workflows.scoring.rubric import Category, Rubric, RubricItem


def codes(rubric):
    return [p.code for p in rubric.validate()]


def test_default_rubric_is_sound():
    assert RUBRIC.validate() == []
    assert len(RUBRIC.categories) == 7
    assert len(RUBRIC.items) == 23
    assert RUBRIC.total_max == 1000


def test_rubric_lookups():
    assert RUBRIC.item("4.4.3").max_points == 15
    assert RUBRIC.item("9.9") is None
    assert [i.key for i in RUBRIC.items_in("4.2")] == ["4.2.2", "4.2.3"]
    assert RUBRIC.item_keys[0] == "4.1.2"


def test_rubric_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RUBRIC.step = 10


def test_category_sum_mismatch_names_category_and_sums():
    items = tuple(dataclasses.replace(i, max_points=40) if i.key == "4.1.2" else i for i in ITEMS)
    problems = Rubric(CATEGORIES, items, BANDS, 5).validate()
    assert [(p.code, p.data) for p in problems] == [
        ("category_sum_mismatch", {"category": "4.1", "max_points": 110, "items_sum": 100})]


def test_duplicate_keys():
    rubric = Rubric(CATEGORIES + (CATEGORIES[0],), ITEMS + (ITEMS[0],), BANDS, 5)
    problems = rubric.validate()
    assert ("duplicate_category", {"key": "4.1"}) in [(p.code, p.data) for p in problems]
    assert ("duplicate_item", {"key": "4.1.2"}) in [(p.code, p.data) for p in problems]


def test_unknown_category_and_category_without_items():
    items = ITEMS + (RubricItem("5.1", "5", "extra", 10),)
    cats = CATEGORIES + (Category("4.8", "empty", 10),)
    assert set(codes(Rubric(cats, items, BANDS, 5))) == {
        "unknown_category", "category_without_items"}


def test_empty_rubric():
    assert codes(Rubric((), (), BANDS, 5)) == ["no_categories", "no_items"]


def test_non_positive_max_and_empty_key():
    cats = (Category("A", "a", 0),)
    items = (RubricItem(" ", "A", "x", 0),)
    assert set(codes(Rubric(cats, items, BANDS, 5))) == {"non_positive_max", "empty_key"}


@pytest.mark.parametrize("step", [0, -5, 7, 2.5])
def test_invalid_step(step):
    assert codes(Rubric(CATEGORIES, ITEMS, BANDS, step)) == ["invalid_step"]


@pytest.mark.parametrize("bands, code", [
    (((0, 5), (10, 110)), "band_out_of_range"),
    (((-5, 5), (10, 100)), "band_out_of_range"),
    (((5, 0), (10, 100)), "band_inverted"),
    (((0, 7), (10, 100)), "band_not_on_step"),
    (((0, 50), (45, 100)), "bands_overlap_or_unordered"),
    (((50, 100), (0, 45)), "bands_overlap_or_unordered"),
    (((0, 5), (15, 100)), "percent_outside_bands"),
    ((), "no_bands"),
])
def test_band_problems(bands, code):
    assert code in codes(Rubric(CATEGORIES, ITEMS, bands, 5))


def test_other_editions_configure_their_own_scale():
    # A later edition may score in 10 % steps with three bands.
    rubric = Rubric(CATEGORIES, ITEMS, ((0, 30), (40, 60), (70, 100)), 10)
    assert rubric.validate() == []
    assert set(codes(Rubric(CATEGORIES, ITEMS, BANDS, 10))) == {"band_not_on_step"}


def test_workflows_never_import_the_web_layer():
    forbidden = {"flask", "wechatpy", "apscheduler", "jinja2", "bot"}
    root = pathlib.Path(__file__).resolve().parents[2] / "workflows"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
