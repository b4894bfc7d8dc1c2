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


# What a deployment puts where config.example.toml has placeholders (workflows/core/placeholders.py): the tests
# run as a real deployment would, so the example values would be refused.
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"
SECRETARIAT = {"phone": "0751-8123456", "address": "韶关市武江区沿江路16号 市政府质量奖评审委员会秘书处",
               "postcode": "512026"}
CALL_CONTACT = {"name": "李敏", "phone": "0751-8123457", "role": "秘书处"}


def deployed(base: Settings) -> Settings:
    """The example configuration with the placeholders replaced (key, secretariat, call contact)."""
    award = base.award.model_dump()
    award["secretariat"] = dict(SECRETARIAT)
    award["call"]["contacts"] = [dict(CALL_CONTACT)]
    return base.with_overrides(server={"secret_key": SECRET_KEY}, award=award)


def example_settings() -> Settings:
    """config.example.toml as a deployment fills it in (see `deployed`)."""
    return deployed(load_settings(ROOT / "config.example.toml"))


def example_config_text() -> str:
    """config.example.toml's text with the public placeholders and the key replaced (for CLI tests' files)."""
    from workflows.core.placeholders import PLACEHOLDERS
    body = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    values = {"server.secret_key": SECRET_KEY, "award.secretariat.phone": SECRETARIAT["phone"],
              "award.secretariat.address": SECRETARIAT["address"], "award.call.contacts[].phone": CALL_CONTACT["phone"]}
    for p in PLACEHOLDERS:
        if p.key in values:
            body = body.replace(f'"{p.example}"', f'"{values[p.key]}"')
    return body


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    # Tests replay the edition's calendar: commands may take --now (time travel; docs/operator.md).
    # The confidentiality pledges and the committee's own declarations (§五(三), on in the example) are off here:
    # the tests of other rules act as recommenders and committee members directly. tests/workflows/test_pledges.py
    # and tests/bot/test_pledges_chat.py turn them on (`with_pledges`); the sample edition signs them all.
    return example_settings().with_overrides(database={"url": db_url}, storage={"dir": str(tmp_path / "uploads")},
                                             scheduler={"lock_file": str(tmp_path / "scheduler.lock")},
                                             server={"time_travel": True},
                                             award={"pledges": {"roles": [], "committee_declarations": False}})


def with_pledges(settings: Settings) -> Settings:
    """The settings with the example's confidentiality pledges and committee declarations back on."""
    return settings.with_overrides(award={"pledges": example_settings().award.pledges.model_dump()})


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
