"""`python -m bot remind [--now ISO] [--dry-run]` and `python -m bot scheduler --forget-job`."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import bot.migrate
from bot.cli import main
from tests.bot.test_scheduler import write_config
from workflows.core import stages
from workflows.apply.models import AppStatus, Application
from workflows.tables import Base
from workflows.core.models import OutboxMessage, Person, ReminderSent


@pytest.fixture
def config(tmp_path, settings, sessions, clock, monkeypatch):
    """A config file on the test database holding a draft application and a submitted one."""
    # The schema comes from the models here (the lead generates the Alembic migration at the end).
    monkeypatch.setattr(bot.migrate, "upgrade", lambda engine, revision="head": Base.metadata.create_all(engine))
    now = clock()
    with sessions.begin() as s:
        stages.open_stage(s, settings, "apply", actor="system", now=now)
        s.add(Person(userid="tuijian-wj", name="陈军", role="recommender", organization="武江区人民政府",
                     region="武江区", active=True, updated_at=now))
        for userid, status in (("qiye1", AppStatus.DRAFT), ("qiye2", AppStatus.SUBMITTED)):
            s.add(Application(edition=settings.award.edition_key, applicant=userid, status=status,
                              enterprise_name=f"{userid}公司", region_code="440203", created_at=now, updated_at=now))
    return str(write_config(tmp_path, settings))


def invoke(config: str, *args: str):
    return CliRunner().invoke(main, ["--config", config, *args], catch_exceptions=False)


def counts(sessions) -> tuple[int, int]:
    with sessions() as s:
        return (s.scalar(select(func.count()).select_from(ReminderSent)),
                s.scalar(select(func.count()).select_from(OutboxMessage)))


def test_remind_now_twice_sends_once(config, sessions):
    first = invoke(config, "remind", "--now", "2018-11-13T09:00")  # naive: Asia/Shanghai
    assert first.exit_code == 0, first.output
    assert "sent   3d remind.apply" in first.output and "to qiye1" in first.output
    assert "remind.recommend" in first.output and "to tuijian-wj" in first.output
    assert "2 reminder(s) sent at 2018-11-13 09:00:00 CST" in first.output
    assert counts(sessions) == (2, 2)
    again = invoke(config, "remind", "--now", "2018-11-13T01:00:00+00:00")  # the same instant, with an offset
    assert again.exit_code == 0 and "0 reminder(s) sent" in again.output
    assert counts(sessions) == (2, 2)


def test_dry_run_lists_without_sending(config, sessions):
    out = invoke(config, "remind", "--now", "2018-11-15T09:00", "--dry-run")
    assert out.exit_code == 0
    assert "would send   1d remind.apply" in out.output and "2 reminder(s) would send" in out.output
    assert counts(sessions) == (0, 0)


def test_nothing_is_sent_in_quiet_hours(config, sessions):
    out = invoke(config, "remind", "--now", "2018-11-15T23:30")
    assert "0 reminder(s) sent" in out.output and counts(sessions) == (0, 0)


def test_a_bad_time_is_refused_and_changes_nothing(config, sessions):
    out = CliRunner().invoke(main, ["--config", config, "remind", "--now", "next tuesday"])
    assert out.exit_code == 2 and "无法识别时间" in out.output
    assert counts(sessions) == (0, 0)


def test_forget_job_reports_a_missing_job(config):
    out = invoke(config, "scheduler", "--forget-job", "nope")
    assert out.exit_code == 2 and out.stderr == "--forget-job nope: no such persisted job; nothing was done\n"


def test_remind_at_a_time_after_the_deadline_sends_nothing(config, sessions):
    out = invoke(config, "remind", "--now", (dt.datetime(2018, 11, 16, 9, 0)).isoformat())
    assert "0 reminder(s) sent" in out.output and counts(sessions) == (0, 0)
