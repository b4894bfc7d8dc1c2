"""The notice as the media publish it (issue 23.10): a window that would run past the stage's deadline is warned of
and confirmed first; each channel's publication of the notice and of the award announcement is logged; the public
complaint page says from when the notice runs in each channel."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.bot.application_helpers import confirm_last, last_card
from tests.bot.complaint_helpers import start_notice
from tests.bot.conftest import deliver, texts
from tests.workflows.publicity_fixtures import START, committee_result, make_apps, make_roster
from workflows import publicity
from workflows.core import audit
from workflows.core.errors import InvalidInput

from .cli_helpers import digest, invoke

LATE = dt.datetime(2019, 2, 20, 10, 0, tzinfo=START.tzinfo)   # 10 days from here end on 03-01, after 02-25


@pytest.fixture
def proposed(rt, clock):
    clock.set(LATE)
    with rt.sessions.begin() as s:
        ids = make_apps(s, rt.settings)
        make_roster(s)
        committee_result(s, rt.settings, ids[:3], ids[3:])
    return ids


def test_a_late_window_is_refused_unless_confirmed(rt, sessions, proposed):
    with rt.sessions.begin() as s:
        with pytest.raises(InvalidInput) as err:
            publicity.start_publicity(s, rt.settings, actor="mishu1", now=LATE)
        assert err.value.code == "publicity_window_past_deadline" and err.value.data["last_day"] == "2019-03-01"


def test_the_cli_warns_and_asks_before_a_late_window(rt, engine, proposed):
    from click.testing import CliRunner

    from .cli_helpers import Obj, operator_cli
    before = digest(engine)
    said = CliRunner().invoke(operator_cli(), ["publicity", "start", "--actor", "mishu1"], obj=Obj(rt), input="n\n")
    assert said.exit_code == 1 and "晚于本阶段截止时间" in said.output and "2019-03-01" in said.output
    assert digest(engine) == before
    done = invoke(rt, "publicity", "start", "--actor", "mishu1", "--yes")
    assert done.exit_code == 0 and "2019-03-01" in done.output
    with rt.sessions() as s:
        assert audit.entries(s, action="publicity.start")[0].details["past_deadline"]


def test_the_chat_card_warns_of_a_late_window(cb, rt, wecom, proposed):
    assert cb.send(cb.text("mishu1", "公示 开始")).status == 200
    deliver(rt)
    card = last_card(wecom, "mishu1")
    assert "晚于本阶段截止时间" in card["sub_title_text"]
    confirm_last(cb, rt, wecom, "mishu1")
    assert "公示已开始" in texts(wecom, "mishu1")[-1]


def test_each_channel_is_logged_and_the_page_says_since_when(rt, clock, http):
    before = invoke(rt, "publicity", "publish", "portal", "--on", "2019-02-01")
    assert before.exit_code == 1 and "公示尚未开始" in before.output      # nothing to log before the notice
    start_notice(rt, clock)
    clock.set(START + dt.timedelta(days=2))
    assert invoke(rt, "publicity", "publish", "radio", "--on", "2019-02-01").exit_code == 2
    assert invoke(rt, "publicity", "publish", "portal", "--on", "2019-01-30").exit_code == 2   # before the notice
    assert invoke(rt, "publicity", "publish", "portal", "--on", "2019-02-05").exit_code == 2   # a future day
    done = invoke(rt, "publicity", "publish", "portal", "--on", "2019-02-01", "--link", "https://www.sg.gov.cn/gs")
    assert done.exit_code == 0, done.output
    assert invoke(rt, "publicity", "publish", "newspaper", "--on", "2019-02-03", "--actor", "mishu1").exit_code == 0
    log = invoke(rt, "publicity", "log").output
    assert "portal" in log and "since 2019-02-01  runs 10 days  https://www.sg.gov.cn/gs" in log
    assert "since 2019-02-03  runs 8 days — fewer than the rules ask" in log and "tv" in log and "not yet" in log
    html = http.get("/complaints").get_data(as_text=True)
    names = rt.settings.award.call.channel_names
    assert f"{names['portal']}自 2019-02-01 起刊登" in html and f"{names['tv']}尚未刊登" in html
    with rt.sessions() as s:
        assert [e.details["channel"] for e in audit.entries(s, action="publicity.published")] == ["portal",
                                                                                                  "newspaper"]
    refused = invoke(rt, "award", "publish", "portal", "--on", "2019-02-03")
    assert refused.exit_code == 1 and "表彰尚未公告" in refused.output


def test_the_secretariat_logs_a_channel_in_chat(cb, rt, wecom, clock):
    start_notice(rt, clock)
    clock.set(START + dt.timedelta(days=1))
    names = rt.settings.award.call.channel_names

    def say(text):
        assert cb.send(cb.text("mishu1", text)).status == 200
        deliver(rt)
        return texts(wecom, "mishu1")[-1]
    assert "请按以下格式登记刊登情况" in say("公示 刊登 门户网站")
    told = say(f"公示 刊登 {names['newspaper']} 2019-02-02")
    assert "已登记公示的刊登情况" in told and f"{names['newspaper']}：自 2019-02-02 起，公示期内刊登 9 天（少于规定天数）" in told
    assert f"{names['tv']}：尚未刊登" in told
    assert "表彰尚未公告" in say(f"表彰 刊登 {names['portal']} 2019-02-02")
    with rt.sessions() as s:
        assert publicity.current_approval(s, rt.settings) is None      # `表彰 刊登 …` never announces
