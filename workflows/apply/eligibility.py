"""Configured eligibility questions and their evaluation (pure rules, no I/O).

The award's *Measures* are not part of the seed, so the questions are configuration. A
question is either a hard condition (``must_yes``, or ``must_no`` for a question phrased
negatively, such as "a major quality accident in the last three years?") or ``info``,
asked and recorded but never deciding eligibility. The question text lives in templates;
a question carries only the ``text_key`` that names its template.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Mapping, Sequence

QuestionKind = Literal["must_yes", "must_no", "info"]
QUESTION_KINDS: tuple[str, ...] = ("must_yes", "must_no", "info")

# Tokens accepted as answers (after NFKC and lower-casing). These are input vocabulary,
# not output text; callers may pass their own sets.
YES_WORDS = frozenset({"是", "是的", "对", "有", "yes", "y", "1", "true", "ok"})
NO_WORDS = frozenset({"否", "不是", "不", "没有", "无", "no", "n", "0", "false"})

_TRIM = re.compile(r"^[\s\W_]+|[\s\W_]+$")


@dataclass(frozen=True)
class Question:
    """One eligibility question from configuration."""

    key: str
    text_key: str
    kind: QuestionKind = "must_yes"
    required: bool = True  # an info question may be skipped when not required

    @property
    def is_condition(self) -> bool:
        """True if the answer decides eligibility."""
        return self.kind != "info"

    @property
    def expected(self) -> bool | None:
        """The answer a hard condition needs, or None for info questions."""
        return {"must_yes": True, "must_no": False}.get(self.kind)


@dataclass(frozen=True)
class EligibilityResult:
    """Outcome of the answers: eligible when all required are answered and conditions met."""

    eligible: bool
    failed: list[str]  # keys of conditions answered the wrong way
    unanswered: list[str]  # keys of required questions without an answer

    @property
    def complete(self) -> bool:
        """True when every required question has an answer."""
        return not self.unanswered


def questions_from_config(items: Iterable[Mapping[str, Any]]) -> tuple[Question, ...]:
    """Build questions from configuration entries; a bad entry raises ValueError naming it."""
    questions: list[Question] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        key = str(item.get("key", "")).strip()
        where = f"eligibility[{index}]" + (f" ({key})" if key else "")
        if not key:
            raise ValueError(f"{where}: missing 'key'")
        if key in seen:
            raise ValueError(f"{where}: duplicate key {key!r}")
        kind = item.get("kind", "must_yes")
        if kind not in QUESTION_KINDS:
            raise ValueError(f"{where}: kind must be one of {', '.join(QUESTION_KINDS)}")
        required = item.get("required", True)
        if not isinstance(required, bool):
            raise ValueError(f"{where}: 'required' must be true or false")
        seen.add(key)
        text_key = str(item.get("text_key") or f"eligibility.{key}")
        questions.append(Question(key, text_key, kind, required))
    if not questions:
        raise ValueError("eligibility: at least one question is required")
    return tuple(questions)


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


def evaluate(
    questions: Sequence[Question], answers: Mapping[str, bool | None]
) -> EligibilityResult:
    """Decide eligibility from the answers given so far (a missing answer is not a pass)."""
    failed: list[str] = []
    unanswered: list[str] = []
    for q in questions:
        answer = answers.get(q.key)
        if answer is None:
            if q.required or q.is_condition:
                unanswered.append(q.key)
        elif q.is_condition and bool(answer) != q.expected:
            failed.append(q.key)
    return EligibilityResult(not failed and not unanswered, failed, unanswered)


def next_question(
    questions: Sequence[Question], answers: Mapping[str, bool | None]
) -> Question | None:
    """The first required question still without an answer, for a guided dialog."""
    for q in questions:
        if answers.get(q.key) is None and (q.required or q.is_condition):
            return q
    return None

