"""Comments with scores (issue 25.1): per GB/T 19580 item, beside the percentage, the strengths (优势) and the
opportunities for improvement (改进机会) that justify it; and a score far from the other experts' asks for its
reason (`award.rules.outlier_item_percent`, `[decision]`).

Stored on the sheet: `ScoreSheet.comments` (item key → {strengths, opportunities}; older sheets may carry a
category key) and `ScoreSheet.reasons` (item key → the reason for an outlying score). Pure text handling here, the
verbs that change a sheet are in `sheets.py` (`set_comments`, `set_reason`).
"""
from __future__ import annotations

import re
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core.settings import Settings
from workflows.scoring.models import ScoreSheet

TEXT_MAX = 300
REASON_MAX = 300
# Where a comment starts in a message: 优势： … 改进： … (full- or half-width colon).
_STRENGTH = r"(?:优势|优点|长处|亮点)"
_OPPORTUNITY = r"(?:改进机会|改进|不足|建议)"
_MARK = re.compile(rf"(?:{_STRENGTH}|{_OPPORTUNITY})\s*[:：]")
_OPPORTUNITY_MARK = re.compile(rf"{_OPPORTUNITY}\s*[:：]")
_LEAD = re.compile(rf"^{_STRENGTH}\s*[:：]\s*")


def split_value(text: str) -> tuple[str, str]:
    """'60% 优势：…；改进：…' → ('60%', '优势：…；改进：…'); text without a comment mark → (text, '')."""
    match = _MARK.search(text)
    if match is None:
        return text.strip(), ""
    return text[:match.start()].strip(), text[match.start():].strip()


def has_comment(text: str) -> bool:
    """Whether the text carries a 优势/改进 mark."""
    return _MARK.search(text) is not None


def parse_comment(text: str) -> dict[str, str] | None:
    """'优势：…；改进：…' (either part may be missing; unmarked text is a strength) → {strengths, opportunities};
    None when both are empty."""
    body = _LEAD.sub("", text.strip())
    match = _OPPORTUNITY_MARK.search(body)
    strengths, opportunities = (body[:match.start()], body[match.end():]) if match else (body, "")
    result = {"strengths": strengths.strip(" ;；。")[:TEXT_MAX], "opportunities": opportunities.strip(" ;；")[:TEXT_MAX]}
    return result if result["strengths"] or result["opportunities"] else None


def others_mean(session: Session, sheet: ScoreSheet) -> dict[str, Fraction]:
    """Per item, the mean percentage of the other experts' confirmed sheets of the same application and phase."""
    values: dict[str, list[int]] = {}
    for other in session.scalars(select(ScoreSheet).where(
            ScoreSheet.edition == sheet.edition, ScoreSheet.phase == sheet.phase,
            ScoreSheet.application_id == sheet.application_id, ScoreSheet.expert != sheet.expert,
            ScoreSheet.status == "confirmed")):
        for key, value in other.percentages.items():
            values.setdefault(key, []).append(int(value))
    return {k: Fraction(sum(v), len(v)) for k, v in values.items()}


def outliers(session: Session, settings: Settings, sheet: ScoreSheet,
             keys: list[str] | None = None) -> list[str]:
    """Items of the sheet whose percentage lies more than `outlier_item_percent` points (strictly) from the mean
    of the other experts' confirmed sheets; only items others have scored (the first sheet in has none)."""
    limit = settings.award.rules.outlier_item_percent
    means = others_mean(session, sheet)
    return [k for k in (keys if keys is not None else list(sheet.percentages))
            if k in sheet.percentages and k in means and abs(int(sheet.percentages[k]) - means[k]) > limit]


def missing_reasons(session: Session, settings: Settings, sheet: ScoreSheet) -> list[str]:
    """Outlying items of the sheet without a recorded reason, in the sheet's order."""
    reasons = sheet.reasons or {}
    return [k for k in outliers(session, settings, sheet) if not reasons.get(k)]
