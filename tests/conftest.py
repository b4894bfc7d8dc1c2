"""Shared fixtures: settings, a database (SQLite, or PostgreSQL with TEST_DATABASE_URL), a frozen clock."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from sqlalchemy import text

import workflows.edition  # noqa: F401  (the stages hand off to each other only once wired)
from workflows.core.db import make_engine, make_session_factory
from workflows.tables import Base
from workflows.core.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
# Inside the first edition's application stage (deadline 2018-11-15 23:59:59 +08:00).
T0 = dt.datetime(2018, 10, 20, 2, 0, tzinfo=dt.timezone.utc)


class Clock:
    """A frozen, injectable clock (tests never sleep for a deadline)."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> dt.datetime:
        """Move time forward."""
        self.now += dt.timedelta(**kw)
        return self.now

    def set(self, when: dt.datetime) -> dt.datetime:
        """Jump to a time."""
        self.now = when
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


# Each pytest process gets its own PostgreSQL schema, so concurrent runs on one database never collide.
PG_SCHEMA = f"awardbot_test_{os.getpid()}"


def reset_database(engine) -> None:  # noqa: ANN001
    """Give a PostgreSQL test its empty schema (SQLite tests get a fresh file instead)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE; CREATE SCHEMA {PG_SCHEMA}"))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{PG_SCHEMA}"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    base = load_settings(ROOT / "config.example.toml")
    return base.with_overrides(database={"url": db_url}, storage={"dir": str(tmp_path / "uploads")},
                               scheduler={"lock_file": str(tmp_path / "scheduler.lock")})


@pytest.fixture
def engine(settings: Settings):
    eng = make_engine(settings.database.url)
    reset_database(eng)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return make_session_factory(engine)
