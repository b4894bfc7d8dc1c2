"""Stage 5 services for the applicant: start, enterprise facts, documents, checklist, submission.

Every service takes `(session, settings, *, actor, now)`, does not commit, audits and queues notices.
The guided dialog that calls them (which step comes next) is in `workflows.application_flow`;
the recommending unit's side is in `workflows.recommendation`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.core import access, audit, notices, numbers, stages
from workflows.apply.completeness import Checklist, Receipt, material_items
from workflows.apply.completeness import checklist as compute_checklist
from workflows.core.contact import PhoneError, validate_mobile
from workflows.apply.creditcode import CodeError, own_county, validate_credit_code
from workflows.documents.store import StoredDocument
from workflows.apply.conditions import (  # noqa: F401  (re-exported)
    DERIVED_ANSWERS, NotEligible, code_refusal, condition_text, derive_answers, eligibility_problems, end_ineligible,
    failed_reason, refused_type, reopen_failed_answers, type_name,
)
from workflows.apply.eligibility import choose_enterprise_type, parse_yes_no
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from workflows.apply.models import AppStatus, Application, DocStatus, Document, Recommendation
from workflows.apply import changes, recommendation
from workflows.apply.records import STAGE, by_number, get, get_for_applicant, newest_documents, subject
from workflows.core.settings import MaterialConf, Settings

EDITABLE = (AppStatus.DRAFT, AppStatus.RETURNED)
MAX_TEXT = 100
UNIT_REASON_MIN, UNIT_REASON_MAX = 4, 200


def deadline_for(session: Session, settings: Settings, app: Application | None) -> dt.datetime:
    """The effective application deadline (extended for everyone or for this application)."""
    return stages.deadline(session, settings, STAGE, subject(app) if app else None)


def require_editable(session: Session, settings: Settings, app: Application, now: dt.datetime) -> None:
    """Raise unless the application may still be changed by its applicant now (its state first, then the stage)."""
    if app.status not in EDITABLE:
        raise NotAllowed("application_locked", status=app.status, number=app.number or "")
    stages.require_open(session, settings, STAGE, now=now, subject=subject(app))


def require_uploadable(session: Session, settings: Settings, app: Application, item_key: str,
                       now: dt.datetime) -> dt.datetime:
    """Raise unless the applicant may send this item now in the application stage; return the deadline."""
    try:
        item = settings.award.material(item_key)
    except KeyError:
        raise NotFound(what=item_key[:40]) from None
    if item.provided_by != "applicant":
        raise NotAllowed("not_applicant_item", item=item.name)
    require_editable(session, settings, app, now)
    return deadline_for(session, settings, app)


@access.guarded("apply.start")
def start(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> tuple[Application, bool]:
    """Start the member's application or return the existing one; (application, created)."""
    app = get_for_applicant(session, settings, actor)
    stages.require_open(session, settings, STAGE, now=now, subject=subject(app) if app else None)
    if app is not None:
        if app.status in EDITABLE + (AppStatus.INELIGIBLE,):
            reopen_failed_answers(session, settings, app, actor=actor, now=now)
            if unit_mismatch(settings, app) is not None:   # an older record sent to another county: asked again
                app.region_code = None
                _set(session, app, "unit", None, actor=actor, now=now)
        return app, False
    app = Application(edition=settings.award.edition_key, applicant=actor, status=AppStatus.DRAFT,
                      eligibility={}, created_at=now, updated_at=now)
    session.add(app)
    session.flush()
    audit.record(session, actor=actor, action="application.start", subject=subject(app), now=now)
    return app, True


# -- enterprise facts ---------------------------------------------------------------------------
def _clean(text: str) -> str:
    return " ".join((text or "").split())


def _set(session: Session, app: Application, field: str, value: Any, *, actor: str, now: dt.datetime) -> None:
    setattr(app, field, value)
    app.updated_at = now
    audit.record(session, actor=actor, action="application.set", subject=subject(app), now=now,
                 field=field, value=value)


@access.guarded("apply.edit")
def set_enterprise_name(session: Session, settings: Settings, app: Application, text: str, *, actor: str,
                        now: dt.datetime) -> None:
    """Record the enterprise's registered name."""
    require_editable(session, settings, app, now)
    name = _clean(text)
    if not 2 <= len(name) <= 100:
        raise InvalidInput("bad_enterprise_name", length=len(name))
    _set(session, app, "enterprise_name", name, actor=actor, now=now)


@access.guarded("apply.edit")
def set_credit_code(session: Session, settings: Settings, app: Application, text: str, *, actor: str,
                    now: dt.datetime) -> None:
    """Record the unified social credit code: valid (GB 32100), in the city, not already applied."""
    require_editable(session, settings, app, now)
    result = validate_credit_code(text)
    if isinstance(result, CodeError):
        raise InvalidInput("bad_credit_code", reason=result.code, **dict(result.data))
    refusal = code_refusal(settings, result)
    if refusal is not None:
        raise refusal
    other = session.scalar(select(Application).where(Application.edition == app.edition,
                                                     Application.credit_code == result.value,
                                                     Application.id != app.id))
    if other is not None:
        raise AlreadyDone("duplicate_enterprise", enterprise=other.enterprise_name or result.value,
                          contact=other.contact_name or "", number=other.number or "")
    _set(session, app, "credit_code", result.value, actor=actor, now=now)
    derive_answers(app)
    if unit_mismatch(settings, app) is not None:
        # A county chosen before the code changed is no longer the enterprise's own: the unit is asked again.
        _set(session, app, "unit", None, actor=actor, now=now)
        app.region_code = None


@access.guarded("apply.edit")
def set_enterprise_type(session: Session, settings: Settings, app: Application, text: str, *, actor: str,
                        now: dt.datetime) -> bool:
    """Record the enterprise type (营业执照「类型」) and with it the legal-person status [seed §二 具有法人资格].

    A type that is not a legal person (分公司, 个人独资企业, 合伙企业 …) ends the application with its reason.
    Returns whether the type is a legal person.
    """
    require_editable(session, settings, app, now)
    types = settings.award.enterprise_types
    chosen = choose_enterprise_type(types, text)
    if chosen is None:
        raise InvalidInput("bad_enterprise_type", count=len(types), types=[t.name for t in types])
    _set(session, app, "enterprise_type", chosen.key, actor=actor, now=now)
    app.legal_person = chosen.legal_person
    derive_answers(app)
    if not chosen.legal_person:
        end_ineligible(session, app, "legal_person", actor=actor, now=now)
    return chosen.legal_person


def unit_choices(settings: Settings) -> list[tuple[str, str]]:
    """The recommending units to choose from: ('region', code) for counties, ('department', name)."""
    return ([("region", r.code) for r in settings.award.regions]
            + [("department", d) for d in settings.award.departments])


@access.guarded("apply.edit")
def set_unit(session: Session, settings: Settings, app: Application, text: str, *, actor: str,
             now: dt.datetime) -> None:
    """Record the county/district or city department that recommends the enterprise (number or name)."""
    require_editable(session, settings, app, now)
    choices = unit_choices(settings)
    names = [next(r.name for r in settings.award.regions if r.code == v) if k == "region" else v for k, v in choices]
    value = _clean(text)
    index = int(value) - 1 if value.isdigit() else (names.index(value) if value in names else -1)
    if not 0 <= index < len(choices):
        raise InvalidInput("bad_choice", count=len(choices))
    kind, key = choices[index]
    own = own_county(app.credit_code, [r.code for r in settings.award.regions])
    if kind == "region" and own is not None and key != own:
        raise InvalidInput("unit_not_own_county", chosen=names[index], own=names[choices.index(("region", own))],
                           own_number=choices.index(("region", own)) + 1, region_code=own, submitting=False)
    if kind != "department" or key != app.department:
        app.unit_reason = None        # a department's reason is its own: asked again for another department
    app.region_code = key if kind == "region" else None
    app.department = key if kind == "department" else None
    _set(session, app, "unit", names[index], actor=actor, now=now)


@access.guarded("apply.edit")
def set_unit_reason(session: Session, settings: Settings, app: Application, text: str, *, actor: str,
                    now: dt.datetime) -> None:
    """Record why a city department (not the enterprise's county) recommends it [seed §三(五)] (4–200 characters)."""
    require_editable(session, settings, app, now)
    if not app.department:
        raise InvalidInput("unit_reason_not_needed")
    reason = _clean(text)
    if not UNIT_REASON_MIN <= len(reason) <= UNIT_REASON_MAX:
        raise InvalidInput("bad_unit_reason", min=UNIT_REASON_MIN, max=UNIT_REASON_MAX, length=len(reason),
                           department=app.department)
    _set(session, app, "unit_reason", reason, actor=actor, now=now)


def own_county_name(settings: Settings, app: Application) -> str:
    """The name of the county whose code the credit code carries ('' when it names none of the configured ones)."""
    own = own_county(app.credit_code, [r.code for r in settings.award.regions])
    return next((r.name for r in settings.award.regions if r.code == own), "")


def unit_mismatch(settings: Settings, app: Application) -> str | None:
    """The enterprise's own county's code when the chosen county is another one (None when it is fine)."""
    own = own_county(app.credit_code, [r.code for r in settings.award.regions])
    return own if app.region_code and own is not None and app.region_code != own else None


@access.guarded("apply.edit")
def set_industry(session: Session, settings: Settings, app: Application, text: str, *, actor: str,
                 now: dt.datetime) -> None:
    """Record the industry (one of the configured ones by number or name, or free text if none)."""
    require_editable(session, settings, app, now)
    value, options = _clean(text), settings.award.industries
    if options:
        index = int(value) - 1 if value.isdigit() else (options.index(value) if value in options else -1)
        if not 0 <= index < len(options):
            raise InvalidInput("bad_choice", count=len(options))
        value = options[index]
    elif not 1 <= len(value) <= MAX_TEXT:
        raise InvalidInput("bad_text")
    _set(session, app, "industry", value, actor=actor, now=now)


@access.guarded("apply.edit")
def set_contact_name(session: Session, settings: Settings, app: Application, text: str, *, actor: str,
                     now: dt.datetime) -> None:
    """Record the contact person's name."""
    require_editable(session, settings, app, now)
    name = _clean(text)
    if not 2 <= len(name) <= 30 or any(ch.isdigit() for ch in name):
        raise InvalidInput("bad_contact_name")
    _set(session, app, "contact_name", name, actor=actor, now=now)


@access.guarded("apply.edit")
def set_contact_phone(session: Session, settings: Settings, app: Application, text: str, *, actor: str,
                      now: dt.datetime) -> None:
    """Record the contact person's mainland mobile number."""
    require_editable(session, settings, app, now)
    phone = validate_mobile(text)
    if isinstance(phone, PhoneError):
        raise InvalidInput("bad_mobile", reason=phone.code)
    _set(session, app, "contact_phone", phone.number, actor=actor, now=now)


# -- eligibility ----------------------------------------------------------------------------------
@access.guarded("apply.edit")
def answer_eligibility(session: Session, settings: Settings, app: Application, key: str, text: str, *,
                       actor: str, now: dt.datetime) -> bool:
    """Record a yes/no answer; a wrong answer to a must-yes question ends the application. Returns eligible."""
    require_editable(session, settings, app, now)
    conf = next((q for q in settings.award.eligibility if q.key == key), None)
    if conf is None:
        raise NotFound(what=key)
    answer = parse_yes_no(text)
    if answer is None:
        raise InvalidInput("bad_yes_no")
    app.eligibility = {**(app.eligibility or {}), key: answer}
    app.updated_at = now
    audit.record(session, actor=actor, action="application.eligibility", subject=subject(app), now=now,
                 question=key, answer=answer)
    if conf.kind == "must_yes" and not answer:
        end_ineligible(session, app, key, actor=actor, now=now)
        return False
    return True


# -- materials ------------------------------------------------------------------------------------
def applicant_materials(settings: Settings) -> list[MaterialConf]:
    """The material items the applicant provides, in configured order."""
    return [m for m in settings.award.materials if m.provided_by == "applicant"]


def checklist(session: Session, settings: Settings, application: Application) -> Checklist:
    """The application's material checklist (the unit's opinion counts for the recommender item)."""
    receipts = [Receipt(d.item_key, "rejected" if d.status == DocStatus.REJECTED else "received", d.reason)
                for d in newest_documents(application.documents).values() if d.status != DocStatus.REPLACED]
    opinion = session.scalar(select(Recommendation.id).where(Recommendation.application_id == application.id,
                                                             Recommendation.status == "done").limit(1))
    if opinion is not None:
        receipts += [Receipt(m.key, "received") for m in settings.award.materials if m.provided_by == "recommender"]
    return compute_checklist(material_items(settings), receipts)


def record_document(session: Session, settings: Settings, app: Application, *, item_key: str,
                    stored: StoredDocument, source: str, actor: str, now: dt.datetime) -> tuple[Document, Document | None]:
    """Record a stored file as the application's current document for an item; (document, the one it replaced).

    Checks who and what (the applicant, an applicant item, its types and size), not when: the caller
    decides whether the application stage or a 补正 request allows it now.
    """
    if actor != app.applicant:
        raise NotAllowed(action="attach_document")
    try:
        item = settings.award.material(item_key)
    except KeyError:
        raise NotFound(what=item_key) from None
    if item.provided_by != "applicant":
        raise NotAllowed("not_applicant_item", item=item.name)
    if stored.kind not in item.kinds or stored.size > item.max_bytes:
        raise InvalidInput("file_not_allowed", item=item.name)
    previous = newest_documents(app.documents).get(item_key)  # received or rejected: either way replaced now
    if previous is not None and previous.status == DocStatus.REPLACED:
        previous = None
    if previous is not None:
        previous.status = DocStatus.REPLACED
    doc = Document(edition=app.edition, application_id=app.id, item_key=item_key, sha256=stored.sha256, size=stored.size,
                   kind=stored.kind, original_name=stored.display_name(), source=source,
                   status=DocStatus.RECEIVED, uploaded_by=actor, uploaded_at=now)
    session.add(doc)
    app.updated_at = now
    session.flush()
    session.refresh(app, ["documents"])
    audit.record(session, actor=actor, action="document.attach", subject=subject(app), now=now, item=item_key,
                 sha256=stored.sha256, size=stored.size, kind=stored.kind, source=source,
                 replaced=previous.id if previous else None)
    return doc, previous


@access.guarded("apply.attach")
def attach_document(session: Session, settings: Settings, *, application_id: int, item_key: str,
                    stored: StoredDocument, source: str, actor: str, now: dt.datetime,
                    prompt_follows: bool = False) -> Document:
    """Attach a document during the application stage and confirm it to the applicant with what is still missing.

    `prompt_follows`: the dialog's next prompt comes right after (it says "必需材料已经齐全"; this does not repeat it).
    """
    app = get(session, settings, application_id)
    if actor == app.applicant:
        require_editable(session, settings, app, now)
    doc, previous = record_document(session, settings, app, item_key=item_key, stored=stored, source=source,
                                    actor=actor, now=now)
    item = settings.award.material(item_key)
    missing = [settings.award.material(k).name for k in checklist(session, settings, app).missing_required]
    ready = not missing_facts(app) and not unanswered_questions(settings, app)
    notices.notify(session, app.applicant, "apply.received", now=now, _reply=True, item=item.name,
                   filename=doc.original_name, size=doc.size, replaced=previous is not None, missing=missing,
                   prompt_follows=prompt_follows, ready=ready)
    return doc


# -- submission -----------------------------------------------------------------------------------
def missing_facts(app: Application) -> list[str]:
    """Enterprise facts not yet given (field names)."""
    unit = app.region_code or app.department
    facts = {"enterprise_name": app.enterprise_name, "credit_code": app.credit_code,
             "enterprise_type": app.enterprise_type, "unit": unit,
             "unit_reason": app.unit_reason if app.department else "", "industry": app.industry,
             "contact_name": app.contact_name, "contact_phone": app.contact_phone}
    return [k for k, v in facts.items() if v is None]


def unanswered_questions(settings: Settings, app: Application) -> list[str]:
    """Eligibility questions still without an answer, in configured order."""
    answers = app.eligibility or {}
    return [q.key for q in settings.award.eligibility if answers.get(q.key) is None]


def check_submittable(session: Session, settings: Settings, app: Application, now: dt.datetime) -> Checklist:
    """Raise with exactly what is missing (or which condition is not met) unless it can be submitted now."""
    require_editable(session, settings, app, now)
    problems = eligibility_problems(settings, app)
    if problems:
        raise NotEligible(reason="unmet", city=settings.award.city,
                          conditions=[{"key": k, "text": condition_text(settings, k, app),
                                       "type": type_name(settings, app) if k == "legal_person" else ""}
                                      for k in problems])
    own = unit_mismatch(settings, app)
    if own is not None:
        names = {r.code: r.name for r in settings.award.regions}
        raise InvalidInput("unit_not_own_county", chosen=names.get(app.region_code or "", ""), own=names[own],
                           own_number=[r.code for r in settings.award.regions].index(own) + 1, region_code=own,
                           submitting=True)
    cl = checklist(session, settings, app)
    facts, questions = missing_facts(app), unanswered_questions(settings, app)
    if facts or questions or not cl.complete:
        raise InvalidInput("incomplete_application", facts=facts, questions=len(questions),
                           items=[settings.award.material(k).name for k in cl.missing_required])
    return cl


def next_number(session: Session, settings: Settings) -> str:
    """The next application number of the edition (prefix-001, -002, ...; see workflows.core.numbers)."""
    return numbers.allocate(session, settings, "application", Application)


@access.guarded("apply.submit")
def submit(session: Session, settings: Settings, app: Application, *, actor: str, now: dt.datetime) -> Application:
    """Submit a complete application: number it and hand it to the recommending unit."""
    if actor != app.applicant:
        raise NotAllowed(action="submit")
    check_submittable(session, settings, app, now)
    if app.number is None:
        app.number = next_number(session, settings)
    app.status, app.submitted_at, app.updated_at = AppStatus.SUBMITTED, now, now
    app.round = (app.round or 0) + 1
    audit.record(session, actor=actor, action="application.submit", subject=subject(app), now=now,
                 number=app.number, round=app.round, snapshot=changes.snapshot(settings, app))
    recommendation.request(session, settings, app, now=now)
    return app


def check_extension(session: Session, settings: Settings, *, until: dt.datetime,
                    number: str | None = None) -> dt.datetime:
    """Raise as `extend_deadline` would (naive or not later); the current deadline it would replace."""
    app = by_number(session, settings, number) if number else None
    current = stages.deadline(session, settings, STAGE, subject(app) if app else None)
    if until.tzinfo is None:
        raise InvalidInput("naive_deadline")
    if until <= current:
        raise InvalidInput("deadline_not_later", current=current, requested=until)
    return current


def unsubmitted_count(session: Session, settings: Settings) -> int:
    """How many applications of the edition are still being filled in or were returned."""
    return session.scalar(select(func.count()).select_from(Application).where(
        Application.edition == settings.award.edition_key, Application.status.in_(EDITABLE))) or 0


@access.guarded("apply.extend")
def extend_deadline(session: Session, settings: Settings, *, until: dt.datetime, actor: str, now: dt.datetime,
                    number: str | None = None, reason: str = "") -> tuple[dt.datetime, Application | None]:
    """Extend the application deadline for everyone or for one application (by number); audited; told."""
    app = by_number(session, settings, number) if number else None
    new = stages.record_extension(session, settings, STAGE, until, actor=actor, now=now,
                        subject=subject(app) if app else None, reason=reason)
    if app is not None:
        notices.notify(session, app.applicant, "apply.deadline_extended", now=now, deadline=new, reason=reason,
                       number=app.number)
    else:  # everyone's deadline: the applicants who can still use it are told
        for other in session.scalars(select(Application).where(Application.edition == settings.award.edition_key,
                                                               Application.status.in_(EDITABLE))):
            if stages.deadline(session, settings, STAGE, subject(other)) == new:
                notices.notify(session, other.applicant, "apply.deadline_extended", now=now, deadline=new,
                               reason=reason, number=other.number)
    return new, app
