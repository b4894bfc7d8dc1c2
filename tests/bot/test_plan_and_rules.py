"""Stages 1 and 2 are decisions (issue 23.6): the secretariat records the city's approval of the 实施方案 (chat
`实施方案 记录 …`, CLI `plan record`) and the 议事规则 with their minutes; the call does not open before the plan's
approval; `阶段` shows every stage's start beside its deadline."""
from __future__ import annotations

import datetime as dt

from tests.bot.conftest import deliver, texts
from workflows import committee
from workflows.core import audit, stages
from workflows.core.models import Person

from .cli_helpers import invoke

NOW = dt.datetime(2018, 9, 1, 2, 0, tzinfo=dt.timezone.utc)


def roster(rt):
    with rt.sessions.begin() as s:
        for userid, role in (("mishu", "secretariat"), ("weiyuan1", "committee")):
            s.add(Person(userid=userid, name=userid, role=role, organization="", region="", updated_at=NOW))


def say(cb, rt, wecom, uid, text):
    assert cb.send(cb.text(uid, text)).status == 200
    deliver(rt)
    return texts(wecom, uid)[-1]


def test_plan_and_rules_in_chat_and_the_stage_list(cb, rt, wecom, clock):
    clock.set(NOW)
    roster(rt)
    assert "市政府批准尚未登记" in say(cb, rt, wecom, "mishu", "实施方案")
    assert "请按以下格式" in say(cb, rt, wecom, "mishu", "实施方案 记录 韶府函〔2018〕88号")
    told = say(cb, rt, wecom, "weiyuan1", "实施方案 记录 2018-08-28 韶府函〔2018〕88号")   # a member only reads
    assert "市政府批准尚未登记" in told and "实施方案 记录" not in told
    told = say(cb, rt, wecom, "mishu", "实施方案 记录 2018-08-28 韶府函〔2018〕88号")
    assert "已登记市政府对实施方案的批准" in told and "2018-08-28 经市政府批准（韶府函〔2018〕88号）" in told
    told = say(cb, rt, wecom, "mishu", "议事规则 记录 日期=2018-08-31 出席=吴海,郑涛 纪要=评审委员会第1次会议纪要 "
                                       "决定=审议通过评审委员会议事规则")
    assert "评审委员会第1次会议纪要" in told
    assert "审议通过（评审委员会第1次会议纪要）" in say(cb, rt, wecom, "weiyuan1", "实施方案")
    with rt.sessions() as s:
        assert audit.entries(s, action="plan.approval")[0].actor == "mishu"
        assert committee.latest_meeting(s, rt.settings).minutes_ref == "评审委员会第1次会议纪要"
    listed = say(cb, rt, wecom, "mishu", "阶段")
    assert "材料评审，2018年12月01日起，截止 2018年12月20日" in listed
    assert "表彰奖励，2019年04月01日起，截止 2019年04月30日" in listed


def test_the_call_does_not_open_before_the_plan_is_approved(rt, clock):
    clock.set(NOW)
    roster(rt)
    for key in ("plan", "committee_meeting"):
        assert invoke(rt, "stage", "close", key, "--yes").exit_code == 0
    refused = invoke(rt, "stage", "open", "call", "--yes")
    assert refused.exit_code == 1 and "市政府对实施方案的批准尚未登记" in refused.output
    assert invoke(rt, "plan", "record", "--date", "2018-08-28", "--document", " ").exit_code == 2
    done = invoke(rt, "plan", "record", "--date", "2018-08-28", "--document", "韶府函〔2018〕88号")
    assert done.exit_code == 0 and "plan approval recorded: 韶府函〔2018〕88号 (2018-08-28)" in done.output
    assert invoke(rt, "plan", "record", "--date", "2018-08-28", "--document", "x").exit_code == 1
    assert "韶府函〔2018〕88号" in invoke(rt, "plan").output
    assert invoke(rt, "stage", "open", "call", "--yes").exit_code == 0
    # the vote stage does not open before the 议事规则 either
    assert "评审委员会的议事规则尚未登记" in invoke(rt, "stage", "open", "vote", "--yes").output
    out = invoke(rt, "committee", "rules", "record", "--held-on", "2018-08-31", "--attendees", "吴海,郑涛",
                 "--decisions", "审议通过评审委员会议事规则", "--minutes", "纪要〔2018〕1号")
    assert out.exit_code == 0 and "纪要〔2018〕1号" in out.output
    with rt.sessions() as s:
        assert stages.status(s, rt.settings, "call") == "open"
