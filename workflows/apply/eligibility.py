"""Eligibility answers (pure rules, no I/O): reading a yes/no or an enterprise type, and which configured
conditions are not met.

The award's *Measures* are not part of the seed, so the questions are configuration
(`[[award.eligibility]]`): a `must_yes` question decides eligibility, an `info` question is asked and
recorded but never decides.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping, Sequence

from workflows.core.settings import EligibilityConf, EnterpriseTypeConf

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


def choose_enterprise_type(types: Sequence[EnterpriseTypeConf], text: str | None) -> EnterpriseTypeConf | None:
    """The enterprise type chosen by its number in the list, its name or its key (full-width tolerant), or None."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    if value.isdigit():
        index = int(value) - 1
        return types[index] if 0 <= index < len(types) else None
    for t in types:
        name = unicodedata.normalize("NFKC", t.name)
        if value and (value in (name, name.split("(")[0]) or value.lower() == t.key):
            return t
    return None


def enterprise_type(types: Sequence[EnterpriseTypeConf], key: str | None) -> EnterpriseTypeConf | None:
    """The configured enterprise type with this key (None for no answer, or a type no longer configured)."""
    return next((t for t in types if t.key == key), None)
