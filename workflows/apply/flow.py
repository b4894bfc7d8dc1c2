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

from workflows.apply import application as svc
from workflows.apply import recommendation
from workflows.apply.records import current_documents, newest_documents, unit_name
from workflows.core import access, conversation, notices
from workflows.core.errors import InvalidInput
from workflows.apply.models import AppStatus, Application
from workflows.core.models import Conversation
from workflows.core.settings import Settings

FLOW = "apply"


class Step(StrEnum):
    """Where the applicant is in the dialog."""

    NAME = "name"
    CREDIT_CODE = "credit_code"
    ENTERPRISE_TYPE = "enterprise_type"
    UNIT = "unit"
    UNIT_REASON = "unit_reason"  # a city department recommends: why (not the enterprise's own county)
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
    "enterprise_type": (Step.ENTERPRISE_TYPE, svc.set_enterprise_type),
    "unit": (Step.UNIT, svc.set_unit),
    "unit_reason": (Step.UNIT_REASON, svc.set_unit_reason),
    "industry": (Step.INDUSTRY, svc.set_industry),
    "contact_name": (Step.CONTACT_NAME, svc.set_contact_name),
    "contact_phone": (Step.CONTACT_PHONE, svc.set_contact_phone),
}
SETTERS: dict[str, Setter] = {step.value: setter for step, setter in FACTS.values()}
SETTERS["legal_person"] = svc.set_enterprise_type   # a dialog left at the former yes/no step gets the type list


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
    raise InvalidInput("bad_item_choice", count=len(items), items=[m.name for m in items])


@access.guarded("apply.edit")
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


# -- what the applicant is shown --------------------------------------------------------------------
def item_numbers(settings: Settings) -> dict[str, int]:
    """The number an applicant replies to choose an item (the same in every list: 进度, prompts, errors)."""
    return {m.key: i for i, m in enumerate(svc.applicant_materials(settings), start=1)}


def summary(session: Session, settings: Settings, app: Application) -> dict[str, Any]:
    """The application as templates show it (facts, numbered checklist with file names, the unit's decision)."""
    # The applicant's own checklist also names a file the secretariat rejected (so he knows which to replace);
    # it is never offered as current.
    docs = newest_documents(app.documents)
    cl = svc.checklist(session, settings, app)
    numbers = item_numbers(settings)
    rec = recommendation.current(session, app)
    entries = [{"key": e.key, "name": e.name, "state": e.state, "reason": e.reason or "", "required": e.required,
                "provided_by": e.provided_by, "file": docs[e.key].original_name if e.key in docs else "",
                "size": docs[e.key].size if e.key in docs else 0, "number": numbers.get(e.key)}
               for e in cl.entries]
    return {"application_id": app.id, "number": app.number or "", "status": app.status,
            "enterprise": app.enterprise_name or "", "credit_code": app.credit_code or "",
            "unit": unit_name(settings, app), "industry": app.industry or "",
            "contact": app.contact_name or "", "phone": app.contact_phone or "",
            "deadline": svc.deadline_for(session, settings, app), "entries": entries,
            "missing": [settings.award.material(k).name for k in cl.missing_required],
            "missing_facts": svc.missing_facts(app), "returned_reason": app.returned_reason or "",
            "questions": [q.question for q in settings.award.eligibility
                          if q.key in svc.unanswered_questions(settings, app) and q.key not in svc.DERIVED_ANSWERS],
            "recommendation": {"decision": rec.decision, "unit": rec.unit, "opinion": rec.opinion or ""}
            if rec is not None else None}


def step_data(session: Session, settings: Settings, app: Application, pos: Position) -> dict[str, Any]:
    """What the prompt for a step needs."""
    data: dict[str, Any] = {"remaining": pos.remaining, "application_id": app.id,
                            "deadline": svc.deadline_for(session, settings, app)}
    if pos.step == Step.UNIT:
        data["regions"] = [r.name for r in settings.award.regions]
        data["departments"] = list(settings.award.departments)
        data["own"] = svc.own_county_name(settings, app)
        data["own_number"] = data["regions"].index(data["own"]) + 1 if data["own"] else 0
    elif pos.step == Step.UNIT_REASON:
        data |= {"department": app.department or "", "own": svc.own_county_name(settings, app),
                 "max": svc.UNIT_REASON_MAX}
    elif pos.step == Step.ENTERPRISE_TYPE:
        data["types"] = [t.name for t in settings.award.enterprise_types]
    elif pos.step == Step.INDUSTRY:
        data["industries"] = list(settings.award.industries)
    elif pos.step == Step.ELIGIBILITY:
        q = next(q for q in settings.award.eligibility if q.key == pos.data["question"])
        data |= {"question": q.question, "must": q.kind == "must_yes"}
    elif pos.step == Step.MATERIAL:
        item = settings.award.material(pos.data["item"])
        current = current_documents(app).get(item.key)
        data |= {"item_key": item.key, "item": item.name, "description": item.description, "kinds": item.kinds,
                 "max_mb": item.max_mb, "required": item.required, "current": current.original_name if current else "",
                 "items": [m.name for m in svc.applicant_materials(settings)]}
    elif pos.step == Step.READY:
        data["items"] = [m.name for m in svc.applicant_materials(settings)]
    elif pos.step == Step.ENDED:
        data["reason"] = svc.failed_reason(settings, app)
        data["type"] = svc.type_name(settings, app) if svc.refused_type(settings, app) else ""
    return data


def prompt(session: Session, settings: Settings, app: Application, pos: Position, userid: str,
           now: dt.datetime) -> None:
    """Queue the question for the applicant's current step."""
    notices.notify(session, userid, f"apply.step_{pos.step.value}", now=now, _reply=True,
                   **step_data(session, settings, app, pos))


def in_dialog(session: Session, userid: str, application_id: int) -> bool:
    """Whether the member is in the apply dialog for this application (an upload is followed by its next prompt)."""
    conv = conversation.current(session, userid)
    return conv is not None and conv.flow == FLOW and conv.data.get("application_id") == application_id


def after_upload(session: Session, settings: Settings, application_id: int, userid: str, now: dt.datetime) -> None:
    """After a file arrived (chat or page): move an applicant in the apply dialog on to the next item."""
    if not in_dialog(session, userid, application_id):
        return
    app = svc.get(session, settings, application_id)
    if app.status not in (AppStatus.DRAFT, AppStatus.RETURNED):
        return
    prompt(session, settings, app, resume(session, settings, app, userid=userid, now=now), userid, now)
