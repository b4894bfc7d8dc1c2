"""`进度` follows the application through every stage to the award, and says what an ending means."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from bot import sample
from tests.bot.application_helpers import (
    APPLICANT, RECOMMENDER, REQUIRED, click, fill_facts, last_card, open_apply, pdf, recommend, say, send_file,
)
from workflows import voting
from workflows.apply.models import AppStatus, Application
from workflows.scoring import results

SCORE = re.compile(r"\d+(\.\d+)?\s*分")


def _progress(cb, rt, wecom, userid: str) -> str:
    replies = [r for r in say(cb, rt, wecom, userid, "进度") if r.startswith("**申报进度**")]
    assert len(replies) == 1, replies
    [reply] = replies
    assert not SCORE.search(reply), reply          # nobody's scores, not even one's own
    return reply


def _advance(rt, until: str) -> None:
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, until, rt.clock())


def test_progress_follows_the_stages_to_the_award(cb, rt, wecom, clock):
    winner_id = "qiye-shaogang"
    _advance(rt, "review")
    reply = _progress(cb, rt, wecom, winner_id)
    assert "✓ 申报推荐：武江区已推荐" in reply and "▶ 申报材料初审：秘书处形式审查中" in reply
    assert "· 材料评审" in reply and "· 表彰奖励" in reply
    _advance(rt, "material")
    reply = _progress(cb, rt, wecom, winner_id)
    assert "✓ 申报材料初审：已受理" in reply and "▶ 材料评审：专家材料评审中" in reply
    assert "2018年11月15日" not in reply     # the application deadline is history now

    _advance(rt, "award")
    clock.set(dt.datetime(2019, 4, 20, 2, 0, tzinfo=dt.timezone.utc))
    with rt.sessions() as s:
        winners = voting.proposed_winners(s, rt.settings)
        site = [x.application_id for x in results.shortlist(s, rt.settings, "site")]
        finalists = [x.application_id for x in results.shortlist(s, rt.settings, "vote")]
        apps = {a.id: a.applicant for a in s.scalars(select(Application))}
    for app_id in winners:
        reply = _progress(cb, rt, wecom, apps[app_id])
        for line in ("✓ 材料评审：入围现场考评", "✓ 现场考评：进入评审委员会合议",
                     "✓ 评审委员会合议推荐：被推荐为拟获奖企业", "✓ 公示：公示期已结束", "✓ 报市政府审批：市政府已批准",
                     "表彰奖励：**获奖**：奖牌、证书及奖金 500,000 元"):
            assert line in reply, (line, reply)
        assert "材料清单" not in reply and "已受理" in reply
    finalist_not_winner = [i for i in finalists if i not in winners]
    if finalist_not_winner:
        reply = _progress(cb, rt, wecom, apps[finalist_not_winner[0]])
        assert "✗ 评审委员会合议推荐：未被推荐为拟获奖企业" in reply and "申报到此结束" in reply
        assert "· 公示" not in reply
    not_shortlisted = [i for i in apps if i not in site]
    if not_shortlisted:
        reply = _progress(cb, rt, wecom, apps[not_shortlisted[0]])
        assert "✗ 材料评审：未入围现场考评" in reply and "现场考评" not in reply.split("未入围现场考评")[1]


def _submitted(cb, rt, wecom):
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    for key in REQUIRED:
        send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))
    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    click(cb, wecom, APPLICANT, card, card["button_list"][0]["key"])


def test_not_recommended_says_what_it_means_and_what_can_be_done(cb, rt, wecom):
    _submitted(cb, rt, wecom)
    reply = _progress(cb, rt, wecom, APPLICANT)
    assert "▶ 申报推荐：已提交，等待武江区审核推荐" in reply and "推荐意见（由推荐单位填写）：待填写" in reply
    recommend(cb, rt, wecom, RECOMMENDER, "not_recommend", "该企业近三年质量绩效不够突出，本届暂不推荐。")
    with rt.sessions() as s:
        assert s.scalar(select(Application)).status == AppStatus.NOT_RECOMMENDED
    reply = _progress(cb, rt, wecom, APPLICANT)
    assert "✗ 申报推荐：武江区**不予推荐**" in reply
    assert "本届申报到此结束" in reply and "质量绩效不够突出" in reply and "联系武江区" in reply
    assert "推荐单位仍可更改决定" in reply
    assert "✓ 推荐意见" not in reply and "· 申报材料初审" not in reply
