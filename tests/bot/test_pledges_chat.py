"""23.4 through the real webhook: the secretariat sends the confidentiality pledges, an agency member is refused
until he taps 接受并承诺, a committee member declares his conflicts (`利益冲突`) before the vote opens."""
from __future__ import annotations

import pytest

from tests.bot.application_helpers import click as tap
from tests.bot.application_helpers import last_card, say
from tests.bot.conftest import deliver, texts
from tests.conftest import with_pledges
from tests.workflows.scoringdata import T_MATERIAL, add_application, add_roster, open_phase
from tests.workflows.test_voting import seed
from workflows.core import pledges
from workflows.core.models import Person
from workflows import voting
from workflows.voting import ballots


@pytest.fixture
def settings(settings):
    return with_pledges(settings)


@pytest.fixture
def world(rt, clock):
    clock.set(T_MATERIAL)
    with rt.sessions.begin() as s:
        add_roster(s, T_MATERIAL)
        s.add(Person(userid="jigou1", name="机构·张工", role="agency", organization="广东省质量技术服务中心",
                     region="广州市", updated_at=T_MATERIAL))
        add_application(s, rt.settings, 1)
        open_phase(s, rt.settings, "material", T_MATERIAL)
    return rt


def test_the_agency_signs_by_card_before_it_assigns(world, cb, wecom):
    rt = world
    assert "保密承诺" in say(cb, rt, wecom, "jigou1", "分配专家")[-1]          # refused, told how to sign
    assert "尚未发送" in say(cb, rt, wecom, "mishu", "保密承诺")[-1]
    assert "已向 1 人发送" in say(cb, rt, wecom, "mishu", "保密承诺 发送")[-1]
    assert any("保密承诺书" in t for t in texts(wecom, "jigou1"))
    card = last_card(wecom, "jigou1")
    assert card["main_title"]["title"] == "保密承诺书"
    tap(cb, wecom, "jigou1", card, card["button_list"][0]["key"])
    deliver(rt)
    assert "已记录您接受保密承诺书" in texts(wecom, "jigou1")[-1]
    say(cb, rt, wecom, "jigou1", "分配专家")
    assert last_card(wecom, "jigou1")["main_title"]["title"] == "专家分配方案"
    assert "均已接受保密承诺" in say(cb, rt, wecom, "mishu", "保密承诺")[-1]


def test_cli_pledges_ask_and_list(world, cli_run=None):
    from click.testing import CliRunner
    from types import SimpleNamespace
    import click
    from bot.commands import pledges as pledge_commands
    group = click.Group("bot")
    pledge_commands.register(group)
    obj = SimpleNamespace(runtime=world, settings=world.settings)
    out = CliRunner().invoke(group, ["pledges", "list"], obj=obj, catch_exceptions=False)
    assert "jigou1" in out.stdout and "not asked" in out.stdout and "1 outstanding" in out.stdout
    out = CliRunner().invoke(group, ["pledges", "ask", "--actor", "mishu"], obj=obj, catch_exceptions=False)
    assert out.exit_code == 0 and "asked: 1 (jigou1)" in out.stdout


def test_a_committee_member_declares_in_chat_before_the_vote(rt, clock, cb, wecom, monkeypatch):
    from tests.workflows.test_voting import VOTE_TIME
    clock.set(VOTE_TIME)
    with rt.sessions.begin() as s:
        cands = seed(s, rt.settings, clock())
        for m in ("weiyuan2", "mishu"):
            pledges.ask(s, rt.settings, m, clock())
        pledges.accept(s, rt.settings, actor="weiyuan2", now=clock())
    monkeypatch.setattr(ballots, "final_candidates", lambda session, settings: cands)
    monkeypatch.setattr(voting, "final_candidates", lambda session, settings: cands)   # no ranking in this test
    assert "SG2018-001" in say(cb, rt, wecom, "weiyuan2", "利益冲突")[-1]
    assert "已记录您与 SG2018-001 存在利益冲突" in say(cb, rt, wecom, "weiyuan2", "利益冲突 SG2018-001 曾任顾问")[-1]
    assert "覆盖全部候选企业" in say(cb, rt, wecom, "weiyuan2", "利益冲突")[-1]
    assert "请先接受本届的《保密承诺书》" in say(cb, rt, wecom, "weiyuan3", "利益冲突 无")[-1]
    assert "已请 6 位委员" in say(cb, rt, wecom, "mishu", "投票 声明")[-1]
    reply = say(cb, rt, wecom, "mishu", "投票 开始")[-1]
    assert "未声明" in reply and "委员·冯静" in reply


def test_before_the_pledge_the_agency_sees_nothing_in_chat_or_on_the_workbench(world, cb, wecom, http):
    from tests.bot.admin_helpers import sign_in
    rt = world
    assert "请先接受本届的《保密承诺书》" in say(cb, rt, wecom, "jigou1", "分配专家")[-1]
    sign_in(http, wecom, "jigou1")
    page = http.get("/admin/experts")
    assert page.status_code == 403 and "请先接受保密承诺书" in page.get_data(as_text=True)
    with rt.sessions.begin() as s:
        pledges.ask(s, rt.settings, "jigou1", rt.clock())
        pledges.accept(s, rt.settings, actor="jigou1", now=rt.clock())
    assert http.get("/admin/experts").status_code == 200                 # a delegated page, now open
    assert http.get("/admin/edition").status_code == 403                 # not delegated
