"""One clock (RELIABILITY 16, issue 21.1): on a real deployment a command cannot move time past the public notice;
nothing is queued due later than the moment it was queued; audit entries carry the server's time."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot import outbox
from bot.runtime import build_runtime
from tests.bot.conftest import deliver, texts
from tests.workflows.publicity_fixtures import START, committee_result, make_apps, make_roster
from workflows.core import audit, notices
from workflows.core.models import AuditEntry, OutboxMessage

from .cli_helpers import digest, invoke

DAY11 = "2019-02-11 09:00"   # the notice (2019-02-01 .. 02-10) is over
DAY13, DAY14 = "2019-02-13 09:00", "2019-02-14 09:00"


@pytest.fixture
def edition(rt, clock):
    """The committee's closed vote proposes three winners; the notice starts now (its window is open)."""
    clock.set(START)
    with rt.sessions.begin() as s:
        ids = make_apps(s, rt.settings)
        make_roster(s)
        committee_result(s, rt.settings, ids[:3], ids[3:])
    done = invoke(rt, "publicity", "start", "--actor", "mishu1")
    assert done.exit_code == 0, done.output
    deliver(rt)
    clock.set(START + dt.timedelta(days=2))     # day 3 of the 10-day notice
    return ids


@pytest.fixture
def real(rt, clock, engine):
    """The runtime as a real deployment builds it: no time travel (same database, clock and WeCom stand-in)."""
    return build_runtime(rt.settings.with_overrides(server={"time_travel": False}), clock=clock, engine=engine)


def test_a_real_deployment_refuses_to_announce_before_the_notice_ends(real, edition, engine, wecom, tmp_path):
    before = digest(engine)
    for args in (("complaints", "report", "--actor", "mishu1", "--now", DAY11),
                 ("approval", "record", "--date", "2019-02-12", "--document", "韶府函〔2019〕12号",
                  "--approved", "SG2018-001,SG2018-002,SG2018-003", "--actor", "mishu1", "--now", DAY13),
                 ("award", "announce", "--actor", "mishu1", "--now", DAY14),
                 ("award", "pay", "SG2018-001", "--now", DAY14),
                 ("remind", "--now", "2019-02-02 09:00")):          # a past pass that would send
        result = invoke(real, *args)
        assert result.exit_code == 2, (args, result.output)
        [line] = result.stderr.strip().splitlines()
        assert "--now" in line and "time_travel = false" in line and "nothing was changed" in line
        assert digest(engine) == before, args                        # every table unchanged
    # At the server's clock the rules speak for themselves: the notice is still open.
    report = invoke(real, "complaints", "report", "--actor", "mishu1")
    assert report.exit_code == 1 and "publicity_window_still_open" in report.stderr
    assert digest(engine) == before
    # --now stays where it changes nothing: a preview of the notice's state, a reminder preview.
    status = invoke(real, "publicity", "status", "--now", DAY11)
    assert status.exit_code == 0 and status.output.startswith("closed"), status.output
    package = invoke(real, "approval", "package", "--now", DAY11)   # a preview never replaces the one of record
    assert package.exit_code == 2 and "--out" in package.stderr
    package = invoke(real, "approval", "package", "--now", DAY11, "--out", str(tmp_path / "preview.md"))
    assert package.exit_code == 0 and (tmp_path / "preview.md").exists()
    preview = invoke(real, "remind", "--now", DAY11)
    assert preview.exit_code == 0 and "preview only" in preview.output
    assert invoke(real, "remind", "--dry-run", "--now", "2019-02-02 09:00").exit_code == 0
    assert digest(engine) == before
    # Complaints are still taken from the public: nothing moved the window.
    with real.sessions() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("award.%"))).all() == []


def test_no_message_waits_for_a_commands_clock(rt, edition, clock, cb, wecom):
    """Where time travel is on (the demo), a command at a later --now still queues its messages due now: a
    member's reply is not parked behind them, and the outbox never shows a negative age."""
    clock.set(START + dt.timedelta(days=10, hours=1))    # 2019-02-11 11:00, the notice is over
    done = invoke(rt, "complaints", "report", "--actor", "mishu1", "--now", "2019-02-14 09:00")
    assert done.exit_code == 0, done.output
    with rt.sessions() as s:
        queued = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        assert queued and all(row.next_attempt_at <= clock() and row.created_at <= clock() for row in queued)
        assert outbox.status(s, clock()).oldest_pending_seconds >= 0
    assert cb.send(cb.text("weiyuan1", "帮助")).status == 200
    deliver(rt)
    got = texts(wecom, "weiyuan1")
    assert any("核查报告" in t for t in got) and "可用指令" in got[-1]     # the report, then the answer
    with rt.sessions() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all() == []


def test_records_and_queues_on_a_real_deployment_carry_the_servers_time(real, clock):
    """Even a verb handed a later `now` (a script, a forgotten --now) records and queues at the server's clock."""
    clock.set(START)
    later = START + dt.timedelta(days=12)
    with real.sessions.begin() as s:
        entry = audit.record(s, actor="cli", action="test.later", now=later)
        [row] = notices.notify(s, "mishu1", "common.cancelled", now=later, had_flow=False)
    assert entry.at == START and row.next_attempt_at == START and row.created_at == START
    with real.sessions() as s:
        assert s.scalar(select(AuditEntry.at).where(AuditEntry.action == "test.later")) == START
