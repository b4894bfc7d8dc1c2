"""Through the encrypted webhook: the chair records the committee's decision on a deadlocked tie (平票决定),
and a place emptied by an upheld complaint is filled by a new vote round (替补决定 … 投票); the CLI for both."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import click
from click.testing import CliRunner
from sqlalchemy import select

from bot.commands import publicity as publicity_cli
from bot.commands import vote as vote_cli
from tests.bot.application_helpers import confirm_last, last_card
from tests.bot.complaint_helpers import start_notice
from tests.bot.conftest import deliver, texts
from tests.bot.test_committee import _complaint, last, say
from tests.bot.test_voting import card, ranked, submit
from tests.workflows.test_voting import MEMBERS, VOTE_TIME, seed
from workflows import publicity, voting
from workflows.core import audit
from workflows.publicity import places
from workflows.scoring import results
from workflows.voting.models import Ballot

SH = dt.timezone(dt.timedelta(hours=8))
RULES = "议事规则 记录 日期=2018-09-10 出席=吴海,郑涛,冯静 法定人数=3/4 每人选=2 决选=无 当选=0 决定=审议通过评审委员会议事规则"
REASON = "评审委员会第二次会议讨论决定"


def _deadlocked_vote(cb, rt, wecom, clock, monkeypatch):
    """a 4 votes; b, c, d 3 each for the two remaining places; the 议事规则 say 决选=无."""
    clock.set(VOTE_TIME)
    with rt.sessions.begin() as s:
        cands = seed(s, rt.settings, clock())
    monkeypatch.setattr(results, "final_top", lambda s, st: ranked(s, cands))
    say(cb, rt, "mishu", RULES)
    say(cb, rt, "mishu", "投票 开始")
    confirm_last(cb, rt, wecom, "mishu")
    a, b, c, d, e = [f"app-{x.application_id}" for x in cands]
    plan = {"weiyuan1": [a, b], "weiyuan2": [a, b], "weiyuan3": [a, c], "weiyuan4": [a, c], "weiyuan5": [b, d],
            "weiyuan6": [c, d], "weiyuan7": [d, e]}
    for m, picks in plan.items():
        assert submit(cb, wecom, m, picks)[0] == 200
    deliver(rt)
    say(cb, rt, "mishu", "投票 结束")
    return [x.application_id for x in cands]


def test_a_deadlock_is_decided_by_the_chair_on_a_card_and_the_notice_starts_from_it(cb, rt, wecom, clock,
                                                                                      monkeypatch):
    a, b, c, d, e = _deadlocked_vote(cb, rt, wecom, clock, monkeypatch)
    result = next(t for t in texts(wecom, "weiyuan5") if "评审委员会投票结果" in t)
    assert "末位同票无法确定" in result and "平票决定" in result
    say(cb, rt, "mishu", "公示 开始")
    assert "尚未产生结果" in last(wecom, "mishu")
    say(cb, rt, "mishu", f"平票决定 SG2018-002,SG2018-003 {REASON}")      # the secretariat: not its decision
    assert "不适用于您的身份" in last(wecom, "mishu")
    say(cb, rt, "weiyuan1", "平票决定")
    assert "企业乙（SG2018-002）、企业丙（SG2018-003）、企业丁（SG2018-004）" in last(wecom, "weiyuan1")
    assert "剩余名额 2 个" in last(wecom, "weiyuan1")
    say(cb, rt, "weiyuan1", f"平票决定 SG2018-001,SG2018-002 {REASON}")
    assert "SG2018-001 不在末位同票的企业之中" in last(wecom, "weiyuan1")
    say(cb, rt, "weiyuan1", f"平票决定 SG2018-002 {REASON}")
    assert "剩余名额为 2 个" in last(wecom, "weiyuan1")
    say(cb, rt, "weiyuan1", "平票决定 SG2018-002，SG2018-004 开会")
    assert "决定依据" in last(wecom, "weiyuan1")
    with rt.sessions() as s:
        assert voting.latest_round(s, rt.settings).outcome == "deadlocked"
    say(cb, rt, "weiyuan1", f"平票决定 SG2018-004、SG2018-002 {REASON}")
    asked = last_card(wecom, "weiyuan1")
    assert asked["main_title"]["title"] == "确认平票决定" and "企业丁、企业乙" in asked["sub_title_text"]
    with rt.sessions() as s:                                                # nothing before 确认
        assert voting.latest_round(s, rt.settings).decision is None
    confirm_last(cb, rt, wecom, "weiyuan1")
    assert "已记录评审委员会平票决定：企业丁、企业乙" in last(wecom, "weiyuan1")
    for uid in ("mishu", *MEMBERS):
        told = [t for t in texts(wecom, uid) if "**评审委员会平票决定**" in t]
        assert told and "依据：" + REASON in told[-1] and "1. 企业甲" in told[-1] and "3. 企业乙" in told[-1], uid
    with rt.sessions() as s:
        assert voting.proposed_winners(s, rt.settings) == [a, d, b]
        [entry] = audit.entries(s, action="committee.tie_decision")
        assert entry.actor == "weiyuan1"
    say(cb, rt, "weiyuan1", f"平票决定 SG2018-003,SG2018-002 {REASON}")     # decided once
    assert "没有末位同票" in last(wecom, "weiyuan1")
    say(cb, rt, "mishu", "公示 开始")
    assert last_card(wecom, "mishu")["main_title"]["title"] != "确认平票决定"
    confirm_last(cb, rt, wecom, "mishu")
    with rt.sessions() as s:
        assert publicity.current(s, rt.settings).winners == [a, d, b]


def test_an_emptied_place_is_filled_by_a_new_secret_vote(cb, rt, wecom, clock):
    ids = start_notice(rt, clock)
    with rt.sessions.begin() as s:
        c = _complaint(s, rt.settings)                                      # against the 2nd place
    say(cb, rt, "mishu1", f"核查 {c} 成立 取消 经查属实｜不符合申报条件")
    confirm_last(cb, rt, wecom, "mishu1")
    assert "保留|替补|空缺|投票" in last(wecom, "zhuren")
    clock.set(dt.datetime(2019, 2, 5, 10, 0, tzinfo=SH))
    say(cb, rt, "mishu1", f"替补决定 {c} 投票 {REASON}")
    assert "不适用于您的身份" in last(wecom, "mishu1")
    say(cb, rt, "zhuren", f"替补决定 {c} 重投 {REASON}")
    assert "替补决定 投诉编号 保留|替补|空缺|投票" in last(wecom, "zhuren")
    say(cb, rt, "zhuren", f"替补决定 {c} 投票 {REASON}")
    asked = last_card(wecom, "zhuren")
    assert asked["main_title"]["title"] == "确认评审委员会决定" and "重新投票" in asked["sub_title_text"]
    assert "韶关第4制造有限公司、韶关第5制造有限公司" in asked["sub_title_text"]
    with rt.sessions() as s:
        assert s.scalar(select(Ballot).where(Ballot.purpose == "replacement")) is None   # nothing before 确认
    confirm_last(cb, rt, wecom, "zhuren")
    assert "在其余候选企业中重新投票产生第 2 名" in last(wecom, "zhuren")
    assert "重新投票" in [t for t in texts(wecom, "weiyuan2") if "评审委员会决定" in t][-1]
    say(cb, rt, "mishu1", "公示")
    assert "重新投票，等待投票结果" in last(wecom, "mishu1")
    # Each member gets a sealed single-choice card among the remaining ranked candidates.
    tc = card(wecom, "weiyuan1")
    # (the fixture's vote names its candidates "#<id>")
    assert [o["text"] for o in tc["checkbox"]["option_list"]] == [f"#{ids[3]}", f"#{ids[4]}"]
    assert tc["checkbox"]["mode"] == 0 or "单选" in tc["sub_title_text"]
    for uid, pick in (("weiyuan1", 1), ("weiyuan2", 1), ("zhuren", 0)):
        tc = card(wecom, uid)
        assert submit(cb, wecom, uid, [tc["checkbox"]["option_list"][pick]["id"]])[0] == 200
    deliver(rt)
    say(cb, rt, "mishu1", "投票 结束")
    result = next(t for t in texts(wecom, "weiyuan2") if "评审委员会投票结果**（替补投票）" in t)
    assert f"投诉 {c} 成立后空出的第 2 名" in result
    told = [t for t in texts(wecom, "weiyuan2") if "经重新投票" in t][-1]
    assert "韶关第5制造有限公司" in told and "递补第 2 名" in told and "2019年2月14日24时" in told
    assert "经评审委员会决定" in last(wecom, "qiye5")
    with rt.sessions() as s:
        assert publicity.current(s, rt.settings).winners == [ids[0], ids[4], ids[2]]
        assert places.find(s, rt.settings, c).status == "replace"
    say(cb, rt, "mishu1", "投票 复核")
    assert "替补投票 第 1 轮：一致" in last(wecom, "mishu1")


def test_cli_decides_a_tie_and_opens_a_replacement_vote(rt, wecom, cb, clock, monkeypatch, tmp_path):
    group = click.Group()
    vote_cli.register(group)
    publicity_cli.register(group)
    runner = CliRunner()
    obj = SimpleNamespace(runtime=rt)

    def run(*args, code=0):
        out = runner.invoke(group, list(args), obj=obj)
        assert out.exit_code == code, out.output
        return out.output

    ids = _deadlocked_vote(cb, rt, wecom, clock, monkeypatch)
    assert "not_allowed" in run("vote", "decide", "--winners", "SG2018-002,SG2018-003", "--reason", REASON,
                                "--actor", "mishu", code=1)
    assert "不在末位同票" in run("vote", "decide", "--winners", "SG2018-005,SG2018-003", "--reason", REASON,
                             "--actor", "weiyuan1", code=1)
    assert "企业丙、企业乙" in run("vote", "decide", "--winners", "SG2018-003,SG2018-002", "--reason", REASON,
                               "--actor", "weiyuan1")
    with rt.sessions() as s:
        assert voting.proposed_winners(s, rt.settings) == [ids[0], ids[2], ids[1]]
    report = run("vote", "report")
    assert "其中 企业丙、企业乙 为末位同票后评审委员会决定" in report
    # A replacement vote: the chair's decision by CLI, then the report and the re-count name it.
    with rt.sessions.begin() as s:
        from bot.handlers import publicity as ph
        ph.start(s, rt.settings, rt.renderer, actor="cli", now=clock(), out=tmp_path)
        pub = publicity.current(s, rt.settings)
        pub.winners, pub.removed = [ids[0], ids[1]], [ids[2]]
        from tests.workflows.test_complaints import lodge
        complaint = lodge(s, rt.settings, clock())
        from workflows.publicity.models import PlaceDecision
        s.add(PlaceDecision(edition=rt.settings.award.edition_key, publicity_id=pub.id, complaint_id=complaint.id,
                            position=1, removed_id=ids[2], referred_by="mishu", referred_at=clock()))
    number = complaint.number
    assert "replacement vote" in run("complaints", "decide", number, "--vote", "--reason", REASON,
                                     "--actor", "weiyuan1", "--closes-at", "2019-01-25 17:00")
    assert "replacement vote (ballot" in run("publicity", "status")
    assert "（替补投票）" in run("vote", "report")
