"""Eligibility answers (pure rules, no I/O): reading a yes/no, and which configured conditions are not met.

The award's *Measures* are not part of the seed, so the questions are configuration
(`[[award.eligibility]]`): a `must_yes` question decides eligibility, an `info` question is asked and
recorded but never decides.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping

from workflows.core.settings import EligibilityConf

# Tokens accepted as answers (after NFKC and lower-casing). These are input vocabulary,
# not output text; callers may pass their own sets.
YES_WORDS = frozenset({"是", "是的", "对", "有", "yes", "y", "1", "true", "ok"})
NO_WORDS = frozenset({"否", "不是", "不", "没有", "无", "no", "n", "0", "false"})

_TRIM = re.compile(r"^[\s\W_]+|[\s\W_]+$")


def parse_yes_no(
    text: str | None,
    *,
    yes_words: frozenset[str] = YES_WORDS,
    no_words: frozenset[str] = NO_WORDS,
) -> bool | None:
    """Read a yes/no answer (是/否, yes/no, y/n, 有/没有, 1/0; full-width tolerant)."""
    if text is None:
        return None
    word = _TRIM.sub("", unicodedata.normalize("NFKC", text).strip().lower())
    if word in yes_words:
        return True
    if word in no_words:
        return False
    return None


def unmet(questions: Iterable[EligibilityConf], answers: Mapping[str, object]) -> list[str]:
    """The keys of the conditions (`must_yes`) that are not answered 是, in configured order."""
    return [q.key for q in questions if q.kind == "must_yes" and answers.get(q.key) is not True]
