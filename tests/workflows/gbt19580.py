"""Test data: the GB/T 19580 default rubric from DOMAIN.md (7 categories, 23 items, 1000 points)."""

from workflows.scoring.rubric import Category, Rubric, RubricItem

CATEGORIES = (
    Category("4.1", "Leadership", 110),
    Category("4.2", "Strategy", 90),
    Category("4.3", "Customers and markets", 90),
    Category("4.4", "Resources", 130),
    Category("4.5", "Process management", 100),
    Category("4.6", "Measurement, analysis and improvement", 80),
    Category("4.7", "Results", 400),
)

_ITEMS = (
    ("4.1.2", 50), ("4.1.3", 30), ("4.1.4", 30),
    ("4.2.2", 40), ("4.2.3", 50),
    ("4.3.2", 40), ("4.3.3", 50),
    ("4.4.2", 60), ("4.4.3", 15), ("4.4.4", 20), ("4.4.5", 15), ("4.4.6", 10), ("4.4.7", 10),
    ("4.5.2", 50), ("4.5.3", 50),
    ("4.6.2", 40), ("4.6.3", 40),
    ("4.7.2", 80), ("4.7.3", 80), ("4.7.4", 80), ("4.7.5", 60), ("4.7.6", 50), ("4.7.7", 50),
)

ITEMS = tuple(RubricItem(key, key.rsplit(".", 1)[0], f"item {key}", points)
              for key, points in _ITEMS)

BANDS = ((0, 5), (10, 25), (30, 45), (50, 65), (70, 85), (90, 100))

RUBRIC = Rubric(CATEGORIES, ITEMS, BANDS, 5)


def sheet_text(percentages: dict[str, int]) -> str:
    """A whole sheet message in the plain "key=NN%" form."""
    return " ".join(f"{key}={value}%" for key, value in percentages.items())
