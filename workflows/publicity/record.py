"""The edition's public-notice record: look-ups shared by the notice, complaints and the award."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core.errors import NotFound
from workflows.core.settings import Settings
from workflows.publicity.models import Publicity
from workflows.publicity.window import Window


def window_of(pub: Publicity) -> Window:
    """The stored window as a `publicity_window.Window`."""
    return Window(start=pub.start, end=pub.end, last_day=dt.date.fromisoformat(pub.last_day))


def current(session: Session, settings: Settings) -> Publicity | None:
    """This edition's notice, if it was started."""
    return session.scalar(select(Publicity).where(Publicity.edition == settings.award.edition_key))


def require(session: Session, settings: Settings) -> Publicity:
    """This edition's notice, or a polite refusal saying it has not started."""
    pub = current(session, settings)
    if pub is None:
        raise NotFound("publicity_not_started")
    return pub


def describe(session: Session, app_id: int) -> dict[str, Any]:
    """A JSON-able summary of an application for notices and reports."""
    app = session.get(Application, app_id)
    if app is None:
        return {"id": app_id, "number": "", "name": f"#{app_id}", "applicant": "", "contact_name": ""}
    return {"id": app.id, "number": app.number or f"#{app.id}", "name": app.enterprise_name or f"#{app.id}",
            "applicant": app.applicant, "contact_name": app.contact_name or ""}


def window_data(pub: Publicity) -> dict[str, Any]:
    """The window as template data (ISO strings, shown with the `local` filter)."""
    return {"start": pub.start.isoformat(), "end": pub.end.isoformat(), "last_day": pub.last_day,
            "days": pub.days}
