"""Complaints that do not come through the chat: the public page (no WeCom needed) and the secretariat's
registration of letters, calls and visits. Both end as the chat's do (`complaints.lodge`): one numbering,
the same notice to the secretariat, the same verification. See docs/reach.md.

Each verb makes a *draft*; the caller adds the evidence files through `workflows.intake` (the one upload
path, with its checks) and then calls `complaints.lodge` in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.core import access, audit, stages
from workflows.core.contact import PhoneError, validate_contact_phone
from workflows.core.errors import InvalidInput
from workflows.core.settings import Settings
from workflows.publicity import publication
from workflows.publicity import window as publicity_window
from workflows.publicity.complaints import require_window_open
from workflows.publicity.models import Complaint, ComplaintAttempt
from workflows.publicity.record import current, describe, require, window_data, window_of

WEB = "web"
OFFLINE_VIAS = ("letter", "call", "visit")
CONTENT_MIN, CONTENT_MAX = 10, 2000
LODGED = "lodged"
RECEIVED = "received"   # a submission counted against its address, its outcome not yet known


@dataclass(frozen=True)
class PageView:
    """What the public page shows: whether complaints are taken now, the window and who is under notice."""

    state: str                      # not_started | before | open | closed
    window: dict[str, Any]          # window_data of the notice ({} before it was started)
    winners: tuple[dict[str, Any], ...]
    stage_deadline: dt.datetime     # the configured end of the publicity stage (when nothing was started)
    media: tuple[dict[str, Any], ...] = ()   # each channel and since when the notice runs there (publication.py)


def page_view(session: Session, settings: Settings, *, now: dt.datetime) -> PageView:
    """The notice as the public page presents it at `now`."""
    deadline = stages.deadline(session, settings, "publicity")
    pub = current(session, settings)
    if pub is None:
        return PageView("not_started", {}, (), deadline)
    state = str(publicity_window.state(window_of(pub), now))
    winners = tuple(describe(session, i) for i in pub.winners) if state == "open" else ()
    media = tuple(publication.by_channel(session, settings, "publicity"))
    return PageView(state, window_data(pub), winners, deadline, media)


def check_content(text: str) -> str:
    """The complaint's facts, 10–2000 characters, or a refusal saying how long it was."""
    text = (text or "").strip()
    if not CONTENT_MIN <= len(text) <= CONTENT_MAX:
        raise InvalidInput("complaint_bad_content", length=len(text), min=CONTENT_MIN, max=CONTENT_MAX)
    return text


def check_identity(settings: Settings, real_name: str, phone: str, anonymous: bool) -> tuple[str | None, str | None]:
    """(name, phone) under the edition's rule: anonymous only where allowed, else a real name and a valid phone."""
    if anonymous:
        if not settings.award.rules.anonymous_complaints:
            raise InvalidInput("complaint_real_name_required")
        return None, None
    real_name = (real_name or "").strip()
    if not 2 <= len(real_name) <= 50 or any(ch.isdigit() for ch in real_name):
        raise InvalidInput("complaint_bad_name")
    parsed = validate_contact_phone(phone or "")
    if isinstance(parsed, PhoneError):
        raise InvalidInput("complaint_bad_phone", reason=parsed.code)
    return real_name, str(parsed)


def _winner(session: Session, settings: Settings, application_id: int) -> int:
    pub = require(session, settings)
    if application_id not in pub.winners:
        raise InvalidInput("complaint_target_not_listed", winners=[describe(session, i) for i in pub.winners])
    return application_id


@access.guarded("complaints.file")
def file_public(session: Session, settings: Settings, *, actor: str, now: dt.datetime, application_id: int,
                content: str, real_name: str = "", phone: str = "", anonymous: bool = False) -> Complaint:
    """A complaint from the public page, as a draft to add evidence to; refused outside the notice window."""
    require_window_open(session, settings, now=now)
    target = _winner(session, settings, int(application_id))
    text = check_content(content)
    name, number = check_identity(settings, real_name, phone, anonymous)
    draft = Complaint(edition=settings.award.edition_key, publicity_id=require(session, settings).id,
                      application_id=target, complainant=access.PUBLIC, content=text, real_name=name, phone=number,
                      anonymous=anonymous, status="draft", created_at=now, channel=WEB)
    session.add(draft)
    session.flush()
    return draft


@access.guarded("complaints.register")
def register_offline(session: Session, settings: Settings, *, actor: str, now: dt.datetime, via: str,
                     received_on: dt.date, application_id: int, content: str, real_name: str = "",
                     phone: str = "", anonymous: bool = False) -> Complaint:
    """A letter, call or visit the secretariat received during the notice, as a draft to add scans to.

    It may be registered after the window closed (a letter posted on the last day), but only for a day
    inside the window, not in the future, and only until the verification report went to the committee.
    """
    if via not in OFFLINE_VIAS:
        raise InvalidInput("complaint_bad_via", vias=list(OFFLINE_VIAS))
    pub = require(session, settings)
    window = window_of(pub)
    first = window.start.astimezone(settings.award.tz).date()
    today = now.astimezone(settings.award.tz).date()
    if not first <= received_on <= min(window.last_day, today):
        raise InvalidInput("complaint_received_outside", received_on=received_on.isoformat(), **window_data(pub))
    if pub.report_sent_at is not None:
        raise InvalidInput("complaint_register_closed")
    target = _winner(session, settings, int(application_id))
    text = check_content(content)
    name, number = check_identity(settings, real_name, phone, anonymous)
    draft = Complaint(edition=settings.award.edition_key, publicity_id=pub.id, application_id=target,
                      complainant=access.OFFLINE, content=text, real_name=name, phone=number, anonymous=anonymous,
                      status="draft", created_at=now, channel=via, received_on=received_on.isoformat(),
                      registered_by=actor)
    session.add(draft)
    session.flush()
    return draft


def rate_limited(session: Session, settings: Settings, *, ip_key: str, phone_key: str | None,
                 now: dt.datetime) -> str | None:
    """Why the page must refuse this submission now ('ip' or 'phone'), or None.

    An address may submit `per_ip_per_hour` times an hour whatever came of it; a phone number may lodge
    `per_phone_per_day` complaints in 24 hours.
    """
    conf = settings.complaint_page
    from_ip = session.scalar(select(func.count()).select_from(ComplaintAttempt).where(
        ComplaintAttempt.ip_key == ip_key, ComplaintAttempt.at > now - dt.timedelta(hours=1))) or 0
    if from_ip >= conf.per_ip_per_hour:
        return "ip"
    return "phone" if phone_limited(session, settings, phone_key=phone_key, now=now) else None


def admit(session: Session, settings: Settings, *, ip_key: str, now: dt.datetime) -> tuple[int, bool]:
    """Count and record one submission from an address, atomically: (its attempt's id, within the limit).

    The attempt is recorded first and the address's attempts of the last hour (this one included) counted
    after it, in one transaction that no other submission's count can interleave with (PostgreSQL: the
    deployment-wide lock taken first; SQLite: every transaction is BEGIN IMMEDIATE). So N submissions at once
    from one address admit exactly `per_ip_per_hour`, the rest are recorded as refused. Called before the body
    is read: an address over its limit costs the page one small transaction."""
    audit.lock_first(session)
    attempt = ComplaintAttempt(at=now, ip_key=ip_key, phone_key=None, outcome=RECEIVED)
    session.add(attempt)
    session.flush()
    count = session.scalar(select(func.count()).select_from(ComplaintAttempt).where(
        ComplaintAttempt.ip_key == ip_key, ComplaintAttempt.at > now - dt.timedelta(hours=1))) or 0
    within = count <= settings.complaint_page.per_ip_per_hour
    if not within:
        attempt.outcome = "refused:rate_ip"
        session.flush()
    return attempt.id, within


def phone_limited(session: Session, settings: Settings, *, phone_key: str | None, now: dt.datetime) -> bool:
    """Whether this phone number already lodged `per_phone_per_day` complaints in 24 hours. Checked again in
    the lodging transaction itself, which holds the lock `admit` takes, so two at once cannot both pass."""
    if not phone_key:
        return False
    lodged = session.scalar(select(func.count()).select_from(ComplaintAttempt).where(
        ComplaintAttempt.phone_key == phone_key, ComplaintAttempt.outcome == LODGED,
        ComplaintAttempt.at > now - dt.timedelta(days=1))) or 0
    return lodged >= settings.complaint_page.per_phone_per_day


def settle_attempt(session: Session, attempt_id: int, *, phone_key: str | None, outcome: str,
                   complaint_id: int | None = None, form_nonce: str | None = None) -> None:
    """The outcome of a submission `admit` recorded (a lodged one carries its form's nonce, unique)."""
    attempt = session.get(ComplaintAttempt, attempt_id)
    if attempt is None:
        return
    attempt.phone_key, attempt.outcome, attempt.complaint_id = phone_key, outcome[:40], complaint_id
    attempt.form_nonce = form_nonce if outcome == LODGED else None
    session.flush()


def record_attempt(session: Session, *, ip_key: str, phone_key: str | None, outcome: str, now: dt.datetime,
                   complaint_id: int | None = None, form_nonce: str | None = None) -> None:
    """Keep one submission of the page for the limits (keys are HMACs; nothing typed is stored here).

    A lodged one carries its form's nonce, unique: a second lodging from the same form fails on flush.
    """
    session.add(ComplaintAttempt(at=now, ip_key=ip_key, phone_key=phone_key, outcome=outcome[:40],
                                 complaint_id=complaint_id, form_nonce=form_nonce if outcome == LODGED else None))
    session.flush()


def lodged_from_form(session: Session, form_nonce: str) -> int | None:
    """The complaint a served form already lodged, if any."""
    return session.scalar(select(ComplaintAttempt.complaint_id).where(ComplaintAttempt.form_nonce == form_nonce))
