"""Site visits through the real encrypted webhook and the CLI: proposal, the enterprise's answer by card
(确认 / 另约时间 with reason and times), a change told to everyone concerned, the reminder the day before."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.commands import visits as visits_commands
from tests.bot.application_helpers import click as tap
from tests.bot.application_helpers import confirm_last, last_card, say
from tests.bot.conftest import deliver, texts
from tests.workflows.scoringdata import T_SITE, add_application, add_roster, open_phase
from workflows import edition
from workflows.core import reminders
from workflows.scoring.draw_models import SiteVisit
from workflows.scoring.models import Shortlist

ITINERARY = "9:00座谈；10:30查看生产现场；14:00查阅资料"


@pytest.fixture
def world(rt, clock):
    clock.set(T_SITE)
    with rt.sessions.begin() as s:
        add_roster(s, T_SITE)
        for n in (1, 2):
            app = add_application(s, rt.settings, n, name=f"企业{n}", now=T_SITE)
            if n == 1:
                s.add(Shortlist(edition=rt.settings.award.edition_key, kind="site", application_id=app.id, position=1,
                                score="600", decided_by="mishu", decided_at=T_SITE))
        open_phase(s, rt.settings, "site", T_SITE)
    return rt


@pytest.fixture
def run(rt):
    group = click.Group("bot")
    visits_commands.register(group)
    obj = SimpleNamespace(runtime=rt, settings=rt.settings)
    return lambda *args: CliRunner().invoke(group, list(args), obj=obj, catch_exceptions=False)


def _visit_card(wecom, userid):
    return next(b["template_card"] for b in reversed(wecom.messages_to(userid))
                if b.get("msgtype") == "template_card"
                and b["template_card"]["button_list"][0]["key"].startswith("visit:"))


def test_propose_in_chat_the_enterprise_asks_for_another_slot_then_confirms_the_change(world, cb, wecom, clock):
    rt = world
    assert "格式" in say(cb, rt, wecom, "mishu", "现场安排 SG2018-001 2019-01-10")[-1]
    assert "不在现场评审入围名单" in say(cb, rt, wecom, "mishu",
                                  f"现场安排 SG2018-002 2019-01-10 09:00 e1,e2 {ITINERARY}")[-1]
    assert "不适用于您的身份" in say(cb, rt, wecom, "e1", f"现场安排 SG2018-001 2019-01-10 09:00 e1 {ITINERARY}")[-1]
    out = say(cb, rt, wecom, "mishu", f"现场安排 SG2018-001 2019-01-10 09:00 e1,e2 {ITINERARY}")
    assert out[-1].startswith("确认现场评审安排")
    with rt.sessions() as s:
        assert s.scalars(select(SiteVisit)).all() == []                    # nothing before 确认
    confirm_last(cb, rt, wecom, "mishu")
    assert "等待企业确认" in texts(wecom, "mishu")[-1]
    assert any("2019年01月10日 09:00" in t and ITINERARY in t for t in texts(wecom, "e1"))
    card = _visit_card(wecom, "qiye1")
    assert card["main_title"]["desc"] == "企业1 SG2018-001"
    # 另约时间: reason, then preferred times, then the confirmation card.
    tap(cb, wecom, "qiye1", card, card["button_list"][1]["key"])
    deliver(rt)
    assert "请说明原因" in texts(wecom, "qiye1")[-1]
    assert "方便的时间" in say(cb, rt, wecom, "qiye1", "当天迎接省里安全检查")[-1]
    say(cb, rt, wecom, "qiye1", "1月11日或1月12日上午")
    assert last_card(wecom, "qiye1")["main_title"]["title"] == "确认申请另约现场评审时间"
    confirm_last(cb, rt, wecom, "qiye1")
    assert "已将您的另约请求转给秘书处" in texts(wecom, "qiye1")[-1]
    told = texts(wecom, "mishu")[-1]
    assert "企业申请另约" in told and "当天迎接省里安全检查" in told and "1月11日或1月12日上午" in told
    # The old card is answered; a second tap is refused politely.
    tap(cb, wecom, "qiye1", card, card["button_list"][0]["key"])
    deliver(rt)
    assert "已答复过" in texts(wecom, "qiye1")[-1]
    # The secretariat changes it: e1 is told he no longer goes, e3 joins, the enterprise gets a new card.
    say(cb, rt, wecom, "mishu", f"现场安排 SG2018-001 2019-01-11 09:00 e2,e3 {ITINERARY}")
    assert last_card(wecom, "mishu")["main_title"]["title"].startswith("确认调整现场评审")
    confirm_last(cb, rt, wecom, "mishu")
    assert "不再需要您参加" in texts(wecom, "e1")[-1]
    assert "安排调整" in texts(wecom, "e3")[-1] or "现场评审" in texts(wecom, "e3")[-1]
    new = _visit_card(wecom, "qiye1")
    assert new["task_id"] != card["task_id"] and "已调整" in new["main_title"]["title"]
    tap(cb, wecom, "qiye1", new, new["button_list"][0]["key"])
    deliver(rt)
    confirm_last(cb, rt, wecom, "qiye1")
    assert "已确认现场评审安排" in texts(wecom, "qiye1")[-1]
    assert "企业已确认" in texts(wecom, "mishu")[-1] and "企业已确认" in texts(wecom, "e3")[-1]
    assert "企业已确认" in say(cb, rt, wecom, "mishu", "现场安排")[-1]
    # The day before: experts and the enterprise are reminded, once.
    clock.set(dt.datetime(2019, 1, 10, 2, 0, tzinfo=dt.timezone.utc))
    with rt.sessions.begin() as s:
        reminders.run_due(s, rt.settings, now=clock(), providers=edition.PROVIDERS)
    deliver(rt)
    for who in ("e2", "e3", "qiye1"):
        assert "现场评审提醒" in texts(wecom, who)[-1], who
    assert not any("现场评审提醒" in t for t in texts(wecom, "e1"))


def test_cli_propose_and_list(world, run, wecom):
    result = run("visits", "propose", "SG2018-001", "2019-01-10", "09:00", "--experts", "e1,e2",
                 "--itinerary", ITINERARY, "--actor", "mishu")
    assert result.exit_code == 0 and "version 1" in result.stdout
    deliver(world)
    assert _visit_card(wecom, "qiye1")
    result = run("visits", "list")
    assert "SG2018-001 企业1: 2019-01-10 09:00 proposed" in result.stdout
    assert "site stage dates: 2018-12-20 23:59 - 2019-01-20 23:59; proposals accepted" in result.stdout
    result = run("visits", "propose", "SG2018-001", "2019-02-10", "09:00", "--experts", "e1",
                 "--itinerary", ITINERARY)
    assert result.exit_code == 1 and "须在“现场考评”阶段内" in result.stderr
    result = run("visits", "propose", "SG2018-001", "2018-01-10", "09:00", "--experts", "e1",
                 "--itinerary", ITINERARY)
    assert result.exit_code == 1 and "晚于现在" in result.stderr
    result = run("visits", "propose", "SG2018-001", "2019-01-10", "09:00", "--experts", "nobody",
                 "--itinerary", ITINERARY)
    assert result.exit_code == 2 and "nobody" in result.stderr          # a bad argument: no such expert


def test_the_stage_gates_the_proposal_and_the_list_offers_only_what_passes(world, cb, wecom):
    rt = world
    listing = say(cb, rt, wecom, "mishu", "现场安排")[-1]
    assert "2019年01月20日" in listing and "安排或调整" in listing and "现场安排 SG2018-001 2019-01-20 09:00" in listing
    out = say(cb, rt, wecom, "mishu", f"现场安排 SG2018-001 2019-01-25 09:00 e1,e2 {ITINERARY}")[-1]
    assert "须在“现场考评”阶段内" in out and "2019年01月20日" in out
    with rt.sessions.begin() as s:
        from workflows.core import stages
        stages.close_stage(s, rt.settings, "site", actor="mishu", now=T_SITE)
    listing = say(cb, rt, wecom, "mishu", "现场安排")[-1]
    assert "阶段已结束" in listing and "`现场安排 " not in listing
    out = say(cb, rt, wecom, "mishu", f"现场安排 SG2018-001 2019-01-10 09:00 e1,e2 {ITINERARY}")[-1]
    assert "不能再安排或调整" in out
    assert not any(b.get("msgtype") == "template_card" for b in wecom.messages_to("mishu"))
    with rt.sessions() as s:
        assert s.scalars(select(SiteVisit)).all() == []


def _progress(cb, rt, wecom, userid="qiye1"):
    return next(r for r in say(cb, rt, wecom, userid, "进度") if r.startswith("**申报进度**"))


def test_the_enterprises_progress_shows_its_visit_and_what_to_do_next(world, cb, wecom):
    rt = world
    reply = _progress(cb, rt, wecom)
    assert "✓ 材料评审：入围现场考评" in reply and "秘书处将在" in reply and "2019年01月20日" in reply
    say(cb, rt, wecom, "mishu", f"现场安排 SG2018-001 2019-01-10 09:00 e1,e2 {ITINERARY}")
    confirm_last(cb, rt, wecom, "mishu")
    reply = _progress(cb, rt, wecom)
    assert "现场评审：2019年01月10日 09:00，专家 2 名" in reply and ITINERARY in reply
    assert "请点击卡片上的“确认安排”" in reply
    assert "专家一" not in reply and "e1" not in reply                 # the names are not revealed to the enterprise
    card = _visit_card(wecom, "qiye1")
    tap(cb, wecom, "qiye1", card, card["button_list"][1]["key"])
    deliver(rt)
    say(cb, rt, wecom, "qiye1", "当天迎接省里安全检查")
    say(cb, rt, wecom, "qiye1", "1月11日上午")
    confirm_last(cb, rt, wecom, "qiye1")
    reply = _progress(cb, rt, wecom)
    assert "您已申请另约时间（原因：当天迎接省里安全检查；希望：1月11日上午）" in reply and "等待秘书处重新安排" in reply
    say(cb, rt, wecom, "mishu", f"现场安排 SG2018-001 2019-01-11 09:00 e2,e3 {ITINERARY}")
    confirm_last(cb, rt, wecom, "mishu")
    reply = _progress(cb, rt, wecom)
    assert "现场评审（已调整，第 2 版）：2019年01月11日 09:00" in reply and "“确认安排”" in reply
    new = _visit_card(wecom, "qiye1")
    tap(cb, wecom, "qiye1", new, new["button_list"][0]["key"])
    deliver(rt)
    confirm_last(cb, rt, wecom, "qiye1")
    reply = _progress(cb, rt, wecom)
    assert "您已确认，前一天我们会提醒您" in reply and "“确认安排”" not in reply
