"""The conditions of eligibility [seed §二]: what makes an application ineligible, the answers derived from the
enterprise's facts, and forgetting a failed answer so that `申报` asks it again.

Services (`workflows.apply.application`) call these; nothing here checks who acts (that is the caller's verb).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from workflows.apply.creditcode import (
    CodeError, is_allowed_registration, is_in_region, registration_kind, validate_credit_code,
)
from workflows.apply.eligibility import enterprise_type, unmet
from workflows.apply.models import AppStatus, Application
from workflows.apply.records import subject
from workflows.core import audit
from workflows.core.errors import DomainError
from workflows.core.settings import EnterpriseTypeConf, Settings

# Eligibility questions whose answer is already known from an enterprise fact are not asked again.
DERIVED_ANSWERS = ("registered_in_city", "legal_person")


class NotEligible(DomainError):
    """The enterprise cannot apply (region, legal person, a must-yes answer)."""

    code = "not_eligible"


def code_refusal(settings: Settings, code: Any) -> NotEligible | None:
    """Why a valid credit code cannot apply (not an allowed registration kind, not in the city), or None."""
    kinds = tuple(settings.award.registration_kinds)
    if not is_allowed_registration(code, kinds):
        return NotEligible(reason="not_enterprise", prefix=registration_kind(code), allowed=list(kinds))
    if not is_in_region(code, tuple(settings.award.region_prefixes)):
        return NotEligible(reason="not_in_city", region_code=code.region_code, city=settings.award.city)
    return None


def eligibility_problems(settings: Settings, app: Application) -> list[str]:
    """What makes the application ineligible now: 'credit_code', 'legal_person' or a question answered 否.

    Re-checked from the facts themselves at submission (a derived answer is not trusted), so a wrong
    answer, an old record or a changed configuration can never be submitted.
    """
    problems: list[str] = []
    if app.credit_code:
        code = validate_credit_code(app.credit_code)
        if isinstance(code, CodeError) or code_refusal(settings, code) is not None:
            problems.append("credit_code")
    if app.legal_person is False or _refused_type(settings, app):
        problems.append("legal_person")
    answers = app.eligibility or {}
    for key in unmet(settings.award.eligibility, answers):
        if answers.get(key) is False and key not in problems:
            problems.append(key)
    return problems


def reopen_failed_answers(session: Session, settings: Settings, app: Application, *, actor: str,
                          now: dt.datetime) -> list[str]:
    """Forget every answer that makes the application ineligible, so the dialog asks it again; audited.

    A mistaken 否 must not lock the enterprise out for the edition: `申报` asks again exactly what failed.
    """
    problems = eligibility_problems(settings, app)
    if not problems and app.status != AppStatus.INELIGIBLE:
        return []
    answers = {k: v for k, v in (app.eligibility or {}).items() if k not in problems and k != "_failed"}
    if "credit_code" in problems:
        app.credit_code = None
        answers.pop("registered_in_city", None)
    if "legal_person" in problems:
        app.legal_person, app.enterprise_type = None, None
        answers.pop("legal_person", None)
    app.eligibility = answers
    derive_answers(app)
    if app.status == AppStatus.INELIGIBLE:
        app.status = AppStatus.DRAFT
    app.updated_at = now
    audit.record(session, actor=actor, action="application.restart", subject=subject(app), now=now,
                 reopened=problems)
    return problems


def _refused_type(settings: Settings, app: Application) -> bool:
    """Whether the recorded enterprise type is not (or no longer) a configured legal-person type."""
    if app.enterprise_type is None:
        return False
    conf = enterprise_type(settings.award.enterprise_types, app.enterprise_type)
    return conf is None or not conf.legal_person


def type_name(settings: Settings, app: Application) -> str:
    """The name of the application's enterprise type as configured ('' if none or no longer configured)."""
    conf = enterprise_type(settings.award.enterprise_types, app.enterprise_type)
    return conf.name if conf else ""


def derive_answers(app: Application) -> None:
    answers = dict(app.eligibility or {})
    if app.credit_code:
        answers["registered_in_city"] = True
    if app.legal_person is not None:
        answers["legal_person"] = app.legal_person
    app.eligibility = answers


def end_ineligible(session: Session, app: Application, key: str, *, actor: str, now: dt.datetime) -> None:
    app.status, app.updated_at = AppStatus.INELIGIBLE, now
    app.eligibility = {**(app.eligibility or {}), "_failed": key}
    audit.record(session, actor=actor, action="application.ineligible", subject=subject(app), now=now, question=key)


def failed_reason(settings: Settings, app: Application) -> str:
    """Why an ineligible application ended (the configured reason, or the question)."""
    return condition_text(settings, (app.eligibility or {}).get("_failed", ""), app)


def condition_text(settings: Settings, key: str, app: Application) -> str:
    """The configured reason (or question) of an eligibility condition; '' for the credit code (templated).

    For the legal person, the reason of the refused enterprise type comes first (why a 分公司 cannot apply).
    """
    text = next((q.reason or q.question for q in settings.award.eligibility if q.key == key), "")
    refused = refused_type(settings, app) if key == "legal_person" else None
    return " ".join(p for p in (refused.reason if refused else "", text) if p)


def refused_type(settings: Settings, app: Application) -> EnterpriseTypeConf | None:
    """The application's enterprise type if it is configured and not a legal person."""
    conf = enterprise_type(settings.award.enterprise_types, app.enterprise_type)
    return conf if conf is not None and not conf.legal_person else None
