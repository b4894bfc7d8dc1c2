"""The recommender's decision is confirmed before it counts, can be changed (audited) until the formal review
starts, and a decision made meanwhile by a colleague is never overwritten by an older confirmation."""
from __future__ import annotations

from sqlalchemy import select

from bot.sample import ensure_roster
from tests.bot.application_helpers import (
    APPLICANT, RECOMMENDER, REQUIRED, click, confirm_last, fill_facts, last_card, open_apply, pdf, recommend, say,
    send_file,
)
from tests.bot.conftest import deliver, texts
from workflows.apply.models import AppStatus, Application
from workflows.core import audit, people, stages
from workflows.review.models import FormalReview

SECOND = "tuijian-wj2"


def _submitted(cb, rt, wecom) -> None:
    open_apply(rt)
    with rt.sessions.begin() as s:
        people.import_roster(s, "userid,name,role,organization,region\n"
                                f"{SECOND},武江区质量办·林峰,recommender,武江区人民政府,武江区\n",
                             actor="system", now=rt.clock())
    fill_facts(cb, rt, wecom)
    for key in REQUIRED:
        send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))
    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    click(cb, wecom, APPLICANT, card, card["button_list"][0]["key"])
    deliver(rt)


def _status(rt) -> str:
    with rt.sessions() as s:
        return s.scalar(select(Application)).status


def test_a_decision_can_be_changed_until_the_formal_review_starts(cb, rt, wecom):
    _submitted(cb, rt, wecom)
    recommend(cb, rt, wecom, RECOMMENDER, "recommend", "质量管理成效显著，同意推荐。")
    assert _status(rt) == AppStatus.RECOMMENDED
    assert "初审" in texts(wecom, RECOMMENDER)[-1] and "`推荐 更改 SG2018-001`" in texts(wecom, RECOMMENDER)[-1]
    listing = say(cb, rt, wecom, SECOND, "推荐")[0]      # the unit's other recommender sees it too
    assert "目前没有等待您推荐的申报" in listing and "SG2018-001" in listing and "推荐 更改 SG2018-001" in listing

    offered = say(cb, rt, wecom, SECOND, "推荐 更改 SG2018-001")[0]
    assert "当前决定：**推荐**" in offered
    card = last_card(wecom, SECOND)
    assert card["main_title"]["title"] == "更改推荐意见 SG2018-001" and "当前决定：推荐" in card["sub_title_text"]
    recommend(cb, rt, wecom, SECOND, "not_recommend", "经复核，该企业近三年有一起质量投诉未结，暂不推荐。")
    sure = [c for c in (b["template_card"] for b in wecom.messages_to(SECOND) if b.get("msgtype") == "template_card")
            if c["button_list"][0]["key"].startswith("confirm:")][-1]
    assert "将把决定由“推荐”改为“不推荐”" in sure["sub_title_text"]
    assert _status(rt) == AppStatus.NOT_RECOMMENDED
    told = texts(wecom, APPLICANT)[-1]
    assert "更改了" in told and "由“推荐”改为 **不推荐**" in told and "质量投诉未结" in told
    with rt.sessions() as s:
        [change] = audit.entries(s, action="recommend.change")
        assert change.actor == SECOND and change.details["previous"]["decision"] == "recommend"
        assert change.details["decision"] == "not_recommend"
        assert s.scalar(select(FormalReview)) is None       # no formal review was started for it

    # back to 推荐, then the 初审 stage opens: the decision is final
    say(cb, rt, wecom, RECOMMENDER, "推荐 更改 SG2018-001")
    recommend(cb, rt, wecom, RECOMMENDER, "recommend", "复核后投诉已结，同意推荐。")
    assert _status(rt) == AppStatus.RECOMMENDED
    with rt.sessions.begin() as s:
        stages.open_stage(s, rt.settings, "review", actor="mishu", now=rt.clock())
    deliver(rt)
    refused = say(cb, rt, wecom, RECOMMENDER, "推荐 更改 SG2018-001")[0]
    assert "已不能更改" in refused and "“申报材料初审”已经开始" in refused
    assert _status(rt) == AppStatus.RECOMMENDED
    assert "SG2018-001" not in say(cb, rt, wecom, RECOMMENDER, "推荐")[0].split("目前没有等待您推荐的申报")[1]


def test_an_older_confirmation_never_overwrites_a_colleagues_decision(cb, rt, wecom):
    _submitted(cb, rt, wecom)
    first = last_card(wecom, RECOMMENDER)
    click(cb, wecom, RECOMMENDER, first, first["button_list"][2]["key"])     # 退回修改 …
    deliver(rt)
    say(cb, rt, wecom, RECOMMENDER, "请补充近三年审计报告。")                 # … its confirmation card waits
    recommend(cb, rt, wecom, SECOND, "recommend", "同意推荐。")               # meanwhile the colleague decides
    assert _status(rt) == AppStatus.RECOMMENDED
    confirm_last(cb, rt, wecom, RECOMMENDER)                                   # the older confirmation
    assert "已由武江区质量办·林峰给出" in texts(wecom, RECOMMENDER)[-1]
    assert _status(rt) == AppStatus.RECOMMENDED
    assert wecom.card_updates()[-1]["button"]["replace_name"] == "未执行"


def test_confirmation_cards_refuse_strangers_repeats_and_superseded_ones(cb, rt, wecom):
    _submitted(cb, rt, wecom)
    card = last_card(wecom, RECOMMENDER)
    click(cb, wecom, RECOMMENDER, card, card["button_list"][0]["key"])
    deliver(rt)
    say(cb, rt, wecom, RECOMMENDER, "同意推荐。")
    old = last_card(wecom, RECOMMENDER)
    click(cb, wecom, RECOMMENDER, card, card["button_list"][1]["key"])        # changes her mind: 不推荐
    deliver(rt)
    assert "改选请再点卡片上的按钮" in texts(wecom, RECOMMENDER)[-1]
    say(cb, rt, wecom, RECOMMENDER, "材料不足，暂不推荐。")
    new = last_card(wecom, RECOMMENDER)
    click(cb, wecom, RECOMMENDER, old, old["button_list"][0]["key"])           # the superseded card
    deliver(rt)
    assert "已被您之后的操作取代" in texts(wecom, RECOMMENDER)[-1] and _status(rt) == AppStatus.SUBMITTED
    click(cb, wecom, SECOND, new, new["button_list"][0]["key"])                # someone else's card
    deliver(rt)
    assert "不是发给您的" in texts(wecom, SECOND)[-1] and _status(rt) == AppStatus.SUBMITTED
    say(cb, rt, wecom, RECOMMENDER, "推荐")
    assert "已由其他人" not in texts(wecom, RECOMMENDER)[-1]
    click(cb, wecom, RECOMMENDER, new, new["button_list"][0]["key"])
    deliver(rt)
    assert _status(rt) == AppStatus.NOT_RECOMMENDED
    click(cb, wecom, RECOMMENDER, new, new["button_list"][0]["key"])           # twice: done once
    deliver(rt)
    assert "已经确认过" in texts(wecom, RECOMMENDER)[-1]
    with rt.sessions() as s:
        assert len(audit.entries(s, action="recommend.decide")) == 1


def test_a_recommender_without_a_card_gets_one_from_the_list(cb, rt, wecom):
    with rt.sessions.begin() as s:
        ensure_roster(s, rt.clock())
    _submitted(cb, rt, wecom)
    with rt.sessions.begin() as s:   # a recommender added to the roster after the submission
        people.import_roster(s, "userid,name,role,organization,region\n"
                                "tuijian-wj3,武江区质量办·赵新,recommender,武江区人民政府,武江区\n",
                             actor="system", now=rt.clock())
    listing = say(cb, rt, wecom, "tuijian-wj3", "推荐")
    assert "卡片已重新发送" in listing[0]
    assert last_card(wecom, "tuijian-wj3")["main_title"]["title"] == "申报待推荐 SG2018-001"
    say(cb, rt, wecom, "tuijian-wj3", "推荐")           # asked again: no second card
    assert len([b for b in wecom.messages_to("tuijian-wj3") if b.get("msgtype") == "template_card"]) == 1


def test_after_the_deadline_nothing_is_offered_to_the_unit(cb, rt, wecom, clock):
    import datetime as dt
    _submitted(cb, rt, wecom)
    card = last_card(wecom, RECOMMENDER)
    clock.set(dt.datetime(2018, 11, 16, 1, 0, tzinfo=dt.timezone.utc))      # the 申报推荐 deadline has passed
    listing = say(cb, rt, wecom, SECOND, "推荐")[0]
    assert "不能再给出意见" in listing and "SG2018-001" in listing and "请在对应卡片上选择" not in listing
    click(cb, wecom, RECOMMENDER, card, card["button_list"][0]["key"])
    deliver(rt)
    assert "已于 2018年11月15日 23:59 截止" in texts(wecom, RECOMMENDER)[-1]
    assert "请直接回复书面推荐意见" not in texts(wecom, RECOMMENDER)[-1] and _status(rt) == AppStatus.SUBMITTED
