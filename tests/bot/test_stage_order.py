"""Stages in the seed's order (issue 21.2): opening or closing a stage checks what must come first (the award after
the city's approval, the approval after the notice, the notice after the committee's vote), says what will follow
(who is told) and asks — `--yes` in scripts. A refusal changes nothing."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.workflows.publicity_fixtures import START, committee_result, make_apps, make_roster
from workflows import publicity
from workflows.core import audit, stages

from .cli_helpers import digest, invoke

AFTER = START + dt.timedelta(days=11)   # the 10-day notice (02-01 .. 02-10) is over


def cli(rt, *args, code=0, input=None):
    from click.testing import CliRunner

    from .cli_helpers import Obj, operator_cli
    result = CliRunner().invoke(operator_cli(), list(args), obj=Obj(rt), input=input)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def noticed(rt, clock):
    """The committee proposed three winners; the notice started at START; earlier stages done."""
    clock.set(START)
    with rt.sessions.begin() as s:
        ids = make_apps(s, rt.settings)
        make_roster(s)
        for key in ("plan", "committee_meeting", "call", "training", "apply", "review", "material", "site"):
            stages.close_stage(s, rt.settings, key, actor="cli", now=START)
        committee_result(s, rt.settings, ids[:3], ids[3:])
        publicity.start_publicity(s, rt.settings, actor="mishu1", now=START)
    return ids


def test_award_cannot_open_before_the_approval_nor_approval_during_the_notice(rt, engine, clock, noticed):
    clock.set(START + dt.timedelta(days=3))
    before = digest(engine)
    out = cli(rt, "stage", "open", "award", "--yes", code=1)
    assert "stage_order_blocked" in out and "市政府审批结果尚未登记" in out
    out = cli(rt, "stage", "open", "approval", "--yes", code=1)
    assert "公示期（至 2019-02-10 24时）尚未结束" in out
    assert "stage_order_blocked" in cli(rt, "stage", "close", "publicity", "--yes", code=1)
    assert digest(engine) == before
    assert invoke(rt, "stage", "open", "nosuchstage").exit_code == 2


def test_opening_says_what_follows_and_asks(rt, clock, noticed):
    clock.set(AFTER)
    out = cli(rt, "stage", "open", "approval", input="n\n", code=1)
    assert "open approval (报市政府审批), now pending:" in out and "open approval?" in out
    with rt.sessions() as s:
        assert stages.status(s, rt.settings, "approval") == "pending"
    out = cli(rt, "stage", "open", "approval", input="y\n")
    assert "opened approval" in out
    with rt.sessions() as s:
        assert stages.status(s, rt.settings, "approval") == "open"
        assert audit.entries(s, action="stage.open")[-1].subject == "stage:approval"
    assert "is open already; nothing was changed" in cli(rt, "stage", "open", "approval")


def test_who_is_told_and_the_warnings_before_confirming(rt, clock):
    clock.set(START)
    with rt.sessions.begin() as s:
        make_roster(s)
        stages.promise_notice(s, rt.settings, "training", "weiyuan1", now=START, word="培训")
    out = cli(rt, "stage", "open", "training", input="n\n", code=1)
    assert "1 member(s) will be told:" in out and "1 × stage.opened to committee" in out
    assert "earlier stages never opened" in out and "制定实施方案" in out     # the plan, the meeting, the call
    assert "its deadline 2018-09-30 23:59 has passed already" in out
    with rt.sessions() as s:
        assert stages.status(s, rt.settings, "training") == "pending"
        assert len(stages.waiting(s, rt.settings, "training")) == 1     # the preview told nobody
    assert "opened training" in cli(rt, "stage", "open", "training", "--yes")
    out = cli(rt, "stage", "close", "apply", "--yes")
    assert "it never opened: closing skips it" in out and "closed apply" in out


def test_the_seed_order_in_the_workflow(rt, clock, noticed):
    from workflows import stage_order
    with rt.sessions.begin() as s:
        plan = stage_order.check(s, rt.settings, "award", "open", now=AFTER)
        assert [b["code"] for b in plan.blockers] == ["not_approved"]
        # vote and approval never opened; the award is planned from April (§三(九))
        assert [w["code"] for w in plan.warnings] == ["earlier_pending", "before_start"]
        publicity.send_report(s, rt.settings, actor="mishu1", now=AFTER)
        publicity.record_approval(s, rt.settings, actor="mishu1", now=AFTER, approved_on=AFTER.date(),
                                  document_number="韶府函〔2019〕12号", approved=noticed[:3])
        assert stage_order.check(s, rt.settings, "award", "open", now=AFTER).blockers == []
        assert stage_order.check(s, rt.settings, "publicity", "close", now=AFTER).blockers == []
