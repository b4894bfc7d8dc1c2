"""Nothing is offered that will be refused, and "开始时我们会通知您" comes true: a stage's opening tells
everyone who was told so and everyone who owes something in it, once; the review cards wait for their stage."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.sample import ensure_roster
from tests.bot.application_helpers import (
    APPLICANT, RECOMMENDER, REQUIRED, click, fill_facts, last_card, pdf, recommend, say, send_file,
)
from tests.bot.conftest import deliver, texts
from workflows.apply.models import AppStatus, Application
from workflows.core import audit, reminders, stages
from workflows.edition import PROVIDERS

MISHU = "mishu"


def _open(rt, *keys: str, actor: str = MISHU) -> None:
    with rt.sessions.begin() as s:
        for key in keys:
            stages.open_stage(s, rt.settings, key, actor=actor, now=rt.clock())
    deliver(rt)


def _cards(wecom, userid: str, prefix: str) -> list[dict]:
    return [b["template_card"] for b in wecom.messages_to(userid) if b.get("msgtype") == "template_card"
            and b["template_card"]["button_list"][0]["key"].startswith(prefix)]


def test_whoever_was_told_to_wait_is_told_when_the_stage_opens_once(cb, rt, wecom):
    with rt.sessions.begin() as s:
        ensure_roster(s, rt.clock())
    early = say(cb, rt, wecom, APPLICANT, "申报")[0]
    assert "“申报推荐”阶段尚未开始" in early and "开始时我们会通知您" in early
    say(cb, rt, wecom, APPLICANT, "申报")               # asked twice: still told once
    _open(rt, "call", "training", "apply")
    news = [t for t in texts(wecom, APPLICANT) if "阶段已开始" in t]
    assert len(news) == 1 and "“申报推荐”阶段已开始" in news[0] and "`申报`" in news[0]
    assert "2018年11月15日 23:59" in news[0]
    assert not texts(wecom, "qiye2")                    # nobody else is told anything
    with rt.sessions.begin() as s:                      # closing and opening again tells nobody twice
        stages.close_stage(s, rt.settings, "apply", actor=MISHU, now=rt.clock())
    _open(rt, "apply")
    assert len([t for t in texts(wecom, APPLICANT) if "阶段已开始" in t]) == 1
    with rt.sessions() as s:
        assert [e.details["waiters"] for e in audit.entries(s, action="stage.announced")] == [1]


def _endorsed(cb, rt, wecom) -> int:
    with rt.sessions.begin() as s:
        ensure_roster(s, rt.clock())
    _open(rt, "call", "training", "apply")
    fill_facts(cb, rt, wecom)
    for key in REQUIRED:
        send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))
    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    click(cb, wecom, APPLICANT, card, card["button_list"][0]["key"])
    deliver(rt)
    recommend(cb, rt, wecom, RECOMMENDER, "recommend", "质量管理成效显著，同意推荐。")
    with rt.sessions() as s:
        app = s.scalar(select(Application))
        assert app.status == AppStatus.RECOMMENDED
        return app.id


def test_review_cards_wait_for_the_review_stage_and_come_with_its_opening(cb, rt, wecom, clock):
    _endorsed(cb, rt, wecom)
    assert not _cards(wecom, MISHU, "review:")          # the 初审 stage is not open: no card offered
    listing = say(cb, rt, wecom, MISHU, "审查")[0]
    assert "SG2018-001" in listing and "尚未开始" in listing and "审查卡片发给您" in listing
    assert "发送 `审查 编号`" not in listing
    refused = say(cb, rt, wecom, MISHU, "审查 SG2018-001")[0]
    assert "尚未开始" in refused and not _cards(wecom, MISHU, "review:")
    # the applicant's 进度 says it waits for the stage
    assert "初审阶段尚未开始" in say(cb, rt, wecom, APPLICANT, "进度")[0]

    clock.set(dt.datetime(2018, 11, 16, 1, 0, tzinfo=dt.timezone.utc))
    before = len(texts(wecom, MISHU))
    _open(rt, "review")
    news = texts(wecom, MISHU)[before:]
    opened = [t for t in news if "阶段已开始" in t]
    assert len(opened) == 1 and "“申报材料初审”阶段已开始" in opened[0] and "1 份申报尚待受理决定" in opened[0]
    [card] = _cards(wecom, MISHU, "review:")
    assert [b["text"] for b in card["button_list"]] == ["受理", "需补正", "不予受理"]
    # the sweep right after does not repeat the notice
    with rt.sessions.begin() as s:
        assert [p for p in reminders.run_due(s, rt.settings, now=clock(), providers=PROVIDERS)
                if p.obligation.recipient == MISHU] == []


def test_no_confirmation_is_offered_once_the_stage_has_closed(cb, rt, wecom, clock):
    _endorsed(cb, rt, wecom)
    clock.set(dt.datetime(2018, 11, 16, 1, 0, tzinfo=dt.timezone.utc))
    _open(rt, "review")
    [card] = _cards(wecom, MISHU, "review:")
    clock.set(dt.datetime(2018, 12, 1, 1, 0, tzinfo=dt.timezone.utc))   # after the 初审 deadline
    for key in ("accept", "supplement", "reject"):
        rt.clock.advance(seconds=10)
        click(cb, wecom, MISHU, card, card["button_list"][["accept", "supplement", "reject"].index(key)]["key"])
        deliver(rt)
        assert "已于 2018年11月30日 23:59 截止" in texts(wecom, MISHU)[-1]
    assert not [c for c in _cards(wecom, MISHU, "confirm:")]
    assert not [b for b in wecom.messages_to(MISHU) if b.get("msgtype") == "template_card"
                and b["template_card"]["card_type"] == "vote_interaction"]
