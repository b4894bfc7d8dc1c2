"""Finding applications and their current documents: the look-ups every part of the application stage shares."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.apply.models import Application, DocStatus, Document
from workflows.core.errors import NotFound
from workflows.core.settings import Settings

STAGE = "apply"


def subject(app: Application) -> str:
    """The audit/extension subject of an application."""
    return f"application:{app.id}"


def get_for_applicant(session: Session, settings: Settings, userid: str) -> Application | None:
    """The member's application in the current edition, if any."""
    return session.scalar(select(Application).where(Application.edition == settings.award.edition_key,
                                                    Application.applicant == userid))


def get(session: Session, settings: Settings, application_id: int) -> Application:
    """An application of this edition by id; NotFound otherwise."""
    app = session.get(Application, application_id)
    if app is None or app.edition != settings.award.edition_key:
        raise NotFound(what=str(application_id))
    return app


def by_number(session: Session, settings: Settings, number: str) -> Application:
    """An application by its number or its enterprise's credit code (case-insensitive); NotFound otherwise."""
    key = number.strip().upper()
    app = session.scalar(select(Application).where(
        Application.edition == settings.award.edition_key,
        (func.upper(Application.number) == key) | (Application.credit_code == key)))
    if app is None:
        raise NotFound(what=number)
    return app


def unit_name(settings: Settings, app: Application) -> str:
    """The name of the application's recommending unit (county/district or city department)."""
    if app.region_code:
        for r in settings.award.regions:
            if r.code == app.region_code:
                return r.name
    return app.department or ""


def newest_documents(documents: Iterable[Document]) -> dict[str, Document]:
    """Per material item, its newest upload whatever its status: the item's state (received or rejected) is read here."""
    out: dict[str, Document] = {}
    for doc in sorted(documents, key=lambda d: d.id):
        out[doc.item_key] = doc
    return out


def current_of(documents: Iterable[Document]) -> dict[str, Document]:
    """The current documents among `documents` (see `current_documents`)."""
    return {key: doc for key, doc in newest_documents(documents).items() if doc.status == DocStatus.RECEIVED}


def current_documents(app: Application) -> dict[str, Document]:
    """THE definition of an application's current documents, used wherever documents are listed or sent.

    Per material item: its newest upload, unless the secretariat rejected it in formal review (then
    the item has no current document until the applicant sends a new one).  A replaced draft is never
    current.  See docs/application.md "Current documents".
    """
    return current_of(app.documents)


def search(session: Session, settings: Settings, *, status: str | None = None, unit: str | None = None,
           industry: str | None = None, text: str | None = None,
           only: Iterable[int] | None = None) -> list[Application]:
    """Applications of this edition that have a number or a name, filtered (read-only, for the workbench).

    `unit` is a region code or a city department's name; `text` matches the enterprise name (part of it),
    the application number or the credit code; `only` keeps just these ids (an expert's assignments).
    """
    q = select(Application).where(Application.edition == settings.award.edition_key)
    if status:
        q = q.where(Application.status == status)
    if unit:
        q = q.where((Application.region_code == unit) | (Application.department == unit))
    if industry:
        q = q.where(Application.industry == industry)
    if text and text.strip():
        key = text.strip()
        like = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(Application.enterprise_name.like(like, escape="\\")
                    | (func.upper(Application.number) == key.upper())
                    | (Application.credit_code == key.upper()))
    if only is not None:
        q = q.where(Application.id.in_(list(only) or [0]))
    return list(session.scalars(q.order_by(Application.number.is_(None), Application.number, Application.id)))


def status_counts(session: Session, settings: Settings) -> dict[str, int]:
    """How many applications of this edition are in each status."""
    rows = session.execute(select(Application.status, func.count()).where(
        Application.edition == settings.award.edition_key).group_by(Application.status))
    return {status: n for status, n in rows}
