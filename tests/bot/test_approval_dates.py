"""报市政府审批（3月30日前） and 表彰奖励 (issue 23.11, dates): a late approval is warned of and confirmed (chat card,
`approval record` asks or `--yes`); nothing is recorded before that."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from tests.bot.application_helpers import confirm_last, last_card
from tests.bot.conftest import deliver, texts
from tests.workflows.publicity_fixtures import START, committee_result, make_apps, make_roster
from workflows import publicity
from workflows.core import audit

from .cli_helpers import Obj, digest, operator_cli

LATE = dt.datetime(2019, 4, 2, 10, 0, tzinfo=START.tzinfo)     # after the approval stage's deadline (03-30)


@pytest.fixture
def reported(rt, clock):
    """The notice ran 02-01 .. 02-10 and the verification report went to the committee; now it is April."""
    clock.set(START)
    with rt.sessions.begin() as s:
        ids = make_apps(s, rt.settings)
        make_roster(s)
        committee_result(s, rt.settings, ids[:3], ids[3:])
        publicity.start_publicity(s, rt.settings, actor="mishu1", now=START)
        publicity.send_report(s, rt.settings, actor="mishu1", now=START + dt.timedelta(days=11))
    clock.set(LATE)
    return ids


def test_the_cli_asks_before_a_late_approval(rt, engine, reported):
    args = ["approval", "record", "--date", "2019-04-01", "--document", "韶府函〔2019〕30号",
            "--approved", "SG2018-001,SG2018-002,SG2018-003", "--actor", "mishu1"]
    before = digest(engine)
    said = CliRunner().invoke(operator_cli(), args, obj=Obj(rt), input="n\n")
    assert said.exit_code == 1 and "已于 2019年03月30日 23:59 截止" in said.output
    assert digest(engine) == before
    bad = CliRunner().invoke(operator_cli(), [*args[:2], "--date", "2019-02-09", *args[4:]], obj=Obj(rt))
    assert bad.exit_code == 2 and "approval_bad_date" in bad.output     # the notice's own days: asked nothing
    done = CliRunner().invoke(operator_cli(), [*args, "--yes"], obj=Obj(rt))
    assert done.exit_code == 0 and "approval recorded" in done.output, done.output
    with rt.sessions() as s:
        assert "past_deadline" in audit.entries(s, action="approval.record")[0].details


def test_the_chat_asks_before_a_late_approval(cb, rt, wecom, reported):
    assert cb.send(cb.text("mishu1", "审批 2019-04-01 韶府函〔2019〕30号 SG2018-001,SG2018-002")).status == 200
    deliver(rt)
    card = last_card(wecom, "mishu1")
    assert card["main_title"]["title"] == "确认登记市政府审批结果" and "已于 03月30日 截止" in card["sub_title_text"]
    with rt.sessions() as s:
        assert publicity.current_approval(s, rt.settings) is None
    confirm_last(cb, rt, wecom, "mishu1")
    assert "已登记市政府审批" in texts(wecom, "mishu1")[-1]
    with rt.sessions() as s:
        assert publicity.current_approval(s, rt.settings).document_number == "韶府函〔2019〕30号"
