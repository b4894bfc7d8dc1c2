"""Releasing the feedback reports (反馈报告, issue 25.5) once the city's approval is recorded.

The reports are built by `workflows.scoring.feedback` and drawn by the bot (Word, HTML, Markdown); here the
secretariat releases them: each applicant whose material review is complete gets its own report in chat as a file,
once, with a short note — except those the secretariat holds back (`holds`, e.g. while a complaint about it is
open), which a later release sends. Nothing goes before the approval: until then a band could still change
meaning for the applicant.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core import access, audit, notices
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.core.settings import Settings
from workflows.publicity.award import current_approval
from workflows.publicity.models import FeedbackRelease
from workflows.scoring.feedback import feedback_data
from workflows.scoring.models import ScoreSheet


def released(session: Session, settings: Settings) -> dict[int, FeedbackRelease]:
    """Application id → its release, for the edition."""
    return {r.application_id: r for r in session.scalars(
        select(FeedbackRelease).where(FeedbackRelease.edition == settings.award.edition_key))}


def reviewed(session: Session, settings: Settings) -> list[Application]:
    """The edition's applications that have a feedback report (their material review is complete)."""
    ids = set(session.scalars(select(ScoreSheet.application_id).where(
        ScoreSheet.edition == settings.award.edition_key, ScoreSheet.status == "confirmed")))
    apps = list(session.scalars(select(Application).where(Application.id.in_(ids)).order_by(Application.id))) if ids else []
    ready = []
    for app in apps:
        try:
            feedback_data(session, settings, app.number or "")
        except InvalidInput:
            continue
        ready.append(app)
    return ready


def due(session: Session, settings: Settings, holds: list[str] = ()) -> list[Application]:
    """The reviewed applications whose report is not yet released and not held (by number); InvalidInput before
    the approval or for a held number that is not a reviewed application."""
    if current_approval(session, settings) is None:
        raise InvalidInput("feedback_before_approval")
    apps = reviewed(session, settings)
    unknown = [h for h in holds if h not in {a.number for a in apps}]
    if unknown:
        raise InvalidInput("feedback_bad_hold", numbers=unknown)
    done = released(session, settings)
    return [a for a in apps if a.id not in done and a.number not in holds]


@access.guarded("award.manage")
def release(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
            files: dict[int, tuple[str, str]], holds: list[str] = ()) -> list[FeedbackRelease]:
    """Send each due applicant its report: `files` maps application id → (sha256, file name) of its stored Word
    file (drawn by the bot). Recorded once per application, audited; AlreadyDone when nothing is due."""
    apps = due(session, settings, list(holds))
    if not apps:
        raise AlreadyDone("feedback_all_released")
    rows = []
    for app in apps:
        sha, name = files[app.id]
        row = FeedbackRelease(edition=settings.award.edition_key, application_id=app.id, sha256=sha,
                              released_by=actor, released_at=now)
        session.add(row)
        rows.append(row)
        notices.notify(session, app.applicant, "feedback.released", now=now, number=app.number,
                       name=app.enterprise_name or app.number)
        notices.send_file(session, app.applicant, sha256=sha, filename=name, now=now)
        audit.record(session, actor=actor, action="feedback.release", subject=f"application:{app.id}", now=now,
                     sha256=sha)
    return rows
