"""The numbers people quote (申报编号, 投诉编号): one rule for every kind, unique per edition, no race.

A number is ``<prefix>-<sequence>``: the prefix is the edition's configuration for the kind
(``[award.application] number_prefix`` for applications, ``complaint_prefix`` for complaints), the
sequence counts from 1 per edition and kind, at least three digits (SG2018-001, TS2018-001).

The sequence lives in a ``number_counter`` row advanced by one statement, ``INSERT … ON CONFLICT DO
UPDATE SET issued = issued + 1 RETURNING issued``.  On PostgreSQL the row stays locked until the
caller's transaction ends, so concurrent submissions queue on it and each gets the next value; on
SQLite writers are serialised already (BEGIN IMMEDIATE).  A rolled-back submission rolls its
increment back with it, so numbers have no gaps.  A number already taken in the edition (a prefix
changed back, rows imported by hand) is skipped rather than refused.
"""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflows.core.models import NumberCounter
from workflows.core.settings import Settings

PREFIXES: dict[str, Callable[[Settings], str]] = {
    "application": lambda s: s.award.application.number_prefix,
    "complaint": lambda s: s.award.application.complaint_prefix,
    "certificate": lambda s: s.award.application.certificate_prefix,
}


def format_number(settings: Settings, kind: str, sequence: int) -> str:
    """The number of the `sequence`-th record of a kind in the edition."""
    return f"{PREFIXES[kind](settings)}-{sequence:03d}"


def _advance(session: Session, edition: str, kind: str) -> int:
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(session.get_bind().dialect.name)
    if insert is None:  # another backend: lock the row the portable way
        row = session.get(NumberCounter, (edition, kind), with_for_update=True)
        if row is None:
            row = NumberCounter(edition=edition, kind=kind, issued=0)
            session.add(row)
        row.issued += 1
        session.flush()
        return row.issued
    stmt = (insert(NumberCounter).values(edition=edition, kind=kind, issued=1)
            .on_conflict_do_update(index_elements=["edition", "kind"], set_={"issued": NumberCounter.issued + 1})
            .returning(NumberCounter.issued))
    return int(session.execute(stmt).scalar_one())


def allocate(session: Session, settings: Settings, kind: str, model: Any) -> str:
    """The next free number of a kind in the current edition; `model` has `edition` and `number` columns."""
    edition = settings.award.edition_key
    while True:
        number = format_number(settings, kind, _advance(session, edition, kind))
        taken = session.scalar(select(model.id).where(model.edition == edition, model.number == number).limit(1))
        if taken is None:
            return number
