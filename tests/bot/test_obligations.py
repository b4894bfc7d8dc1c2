"""Reminders for the later stages reach exactly those who still owe something."""
import datetime as dt

from bot import sample
from bot.scheduler import remind
from workflows.core import stages
from workflows import voting

from .conftest import deliver, texts


def _before(rt, stage: str, days: int) -> dt.datetime:
    """Noon (Asia/Shanghai, outside quiet hours) `days` before the stage's deadline day."""
    with rt.sessions() as s:
        local = stages.deadline(s, rt.settings, stage).astimezone(rt.settings.award.tz)
    return (local.replace(hour=12, minute=0, second=0) - dt.timedelta(days=days)).astimezone(dt.timezone.utc)


def test_secretariat_is_reminded_of_undecided_reviews(rt, wecom, clock):
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "review", clock())
    clock.set(_before(rt, "review", 0))
    sent = remind(rt, now=clock())
    assert {p.obligation.recipient for p in sent if p.obligation.kind == "remind.review"} == {"mishu"}
    deliver(rt)
    assert any("形式审查提醒" in t and "8 份申报" in t for t in texts(wecom, "mishu"))
    assert remind(rt, now=clock()) == []          # exactly once


def test_experts_with_unscored_assignments_are_reminded_and_only_they(rt, wecom, clock):
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "material", clock())
    clock.set(_before(rt, "material", 0))
    sent = remind(rt, now=clock())
    experts = {p.obligation.recipient for p in sent if p.obligation.kind == "remind.score"}
    assert experts and experts <= {"zhuanjia1", "zhuanjia2", "zhuanjia3", "zhuanjia4", "zhuanjia5", "zuzhang"}
    assert not any(p.obligation.recipient.startswith(("weiyuan", "qiye")) for p in sent)
    deliver(rt)
    some = sorted(experts)[0]
    assert any("评分提醒" in t and "材料评审" in t for t in texts(wecom, some))


def test_committee_members_who_have_not_voted_are_reminded(rt, wecom, clock):
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "vote", clock())
    clock.set(_before(rt, "vote", 3))
    with rt.sessions.begin() as s:
        voting.open_ballot(s, rt.settings, actor="mishu", now=clock(),
                           candidates=voting.final_candidates(s, rt.settings))
    clock.set(_before(rt, "vote", 0))
    sent = remind(rt, now=clock())
    assert len({p.obligation.recipient for p in sent if p.obligation.kind == "remind.vote"}) == 7
    deliver(rt)
    assert any("投票提醒" in t for t in texts(wecom, "weiyuan2"))
