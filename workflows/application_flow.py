"""The applicant's guided dialog as a table of steps, stored per member in the database.

The next step is always computed from the application itself (the first missing fact, then
the first unanswered eligibility question, then the first missing required material), so
`申报` resumes exactly where the applicant stopped, after 取消, a restart or a 退回修改.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable

from sqlalchemy.orm import Session

from . import application as svc
from . import conversation
from .errors import InvalidInput
from .model import AppStatus, Application, Conversation
from .settings import Settings

FLOW = "apply"


class Step(StrEnum):
    """Where the applicant is in the dialog."""

    NAME = "name"
    CREDIT_CODE = "credit_code"
    LEGAL_PERSON = "legal_person"
    UNIT = "unit"
    INDUSTRY = "industry"
    CONTACT_NAME = "contact_name"
    CONTACT_PHONE = "contact_phone"
    ELIGIBILITY = "eligibility"
    MATERIAL = "material"
    READY = "ready"          # everything required is there: 提交, or pick an item to replace/add
    ENDED = "ended"          # not eligible


Setter = Callable[..., Any]
# fact name (as in application.missing_facts) → step and the service that validates and records it
FACTS: dict[str, tuple[Step, Setter]] = {
    "enterprise_name": (Step.NAME, svc.set_enterprise_name),
    "credit_code": (Step.CREDIT_CODE, svc.set_credit_code),
    "legal_person": (Step.LEGAL_PERSON, svc.set_legal_person),
    "unit": (Step.UNIT, svc.set_unit),
    "industry": (Step.INDUSTRY, svc.set_industry),
    "contact_name": (Step.CONTACT_NAME, svc.set_contact_name),
    "contact_phone": (Step.CONTACT_PHONE, svc.set_contact_phone),
}
SETTERS: dict[str, Setter] = {step.value: setter for step, setter in FACTS.values()}


@dataclass(frozen=True)
class Position:
    """A step and what it is about (the eligibility question or material item key)."""

    step: Step
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        """How many steps remain including this one (set by `next_position`)."""
        return int(self.data.get("remaining", 0))


def next_position(session: Session, settings: Settings, app: Application, *, item: str | None = None) -> Position:
    """The first thing the application still needs (or the item the applicant chose)."""
    if app.status == AppStatus.INELIGIBLE:
        return Position(Step.ENDED)
    facts = svc.missing_facts(app)
    questions = [q for q in svc.unanswered_questions(settings, app) if q not in svc.DERIVED_ANSWERS]
    missing = svc.checklist(session, settings, app).missing_required
    remaining = len(facts) + len(questions) + len(missing) + 1  # +1: 提交
    if facts:
        return Position(FACTS[facts[0]][0], {"remaining": remaining})
    if questions:
        return Position(Step.ELIGIBILITY, {"question": questions[0], "remaining": remaining})
    if item or missing:
        return Position(Step.MATERIAL, {"item": item or missing[0], "remaining": remaining})
    return Position(Step.READY, {"remaining": remaining})


def resume(session: Session, settings: Settings, app: Application, *, userid: str, now: dt.datetime,
           item: str | None = None) -> Position:
    """Put the member's conversation at the application's next step and return it."""
    pos = next_position(session, settings, app, item=item)
    if pos.step == Step.ENDED:
        conversation.end(session, userid)
    else:
        conversation.start(session, userid, FLOW, pos.step.value, now=now, application_id=app.id,
                           **{k: v for k, v in pos.data.items() if k != "remaining"})
    return pos


def choose_item(settings: Settings, text: str) -> str:
    """The applicant material chosen by its number in the checklist or its name."""
    items = svc.applicant_materials(settings)
    value = text.strip()
    for i, m in enumerate(items, start=1):
        if value in (str(i), m.name, m.key):
            return m.key
    raise InvalidInput("bad_item_choice", count=len(items))


def answer(session: Session, settings: Settings, app: Application, conv: Conversation, text: str, *,
           actor: str, now: dt.datetime) -> Position:
    """Apply one typed answer at the current step and move on; invalid input raises, changing nothing."""
    step = conv.step
    if step in SETTERS:
        SETTERS[step](session, settings, app, text, actor=actor, now=now)
    elif step == Step.ELIGIBILITY:
        svc.answer_eligibility(session, settings, app, str(conv.data.get("question")), text, actor=actor, now=now)
    elif step in (Step.MATERIAL, Step.READY):
        svc.require_editable(session, settings, app, now)
        return resume(session, settings, app, userid=actor, now=now, item=choose_item(settings, text))
    return resume(session, settings, app, userid=actor, now=now)
