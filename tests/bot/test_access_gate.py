"""The one gate, through the real encrypted webhook: refusals are polite, audited and change nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.bot.conftest import deliver, texts
from workflows.core import audit, people
from workflows.core.models import InboundCallback, OutboxMessage


def test_a_callback_claiming_the_bots_own_actor_name_does_nothing(cb, rt, wecom):
    with rt.sessions() as s:
        before = s.scalar(select(func.count()).select_from(OutboxMessage))
    assert cb.send(cb.text("system", "审查")).status == 200
    deliver(rt)
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == before
        assert s.scalar(select(InboundCallback.status).where(InboundCallback.userid == "system")) == "refused"
    assert wecom.messages_to("system") == []


def test_the_roster_refuses_reserved_userids(sessions, clock):
    text = "userid,name,role,organization,region\ncli,假冒,secretariat,,\n"
    with sessions.begin() as s:
        result = people.import_roster(s, text, actor="cli", now=clock())
    assert [(p.line, p.code) for p in result.problems] == [(2, "reserved_userid")]


def test_a_word_of_another_role_is_refused_politely_and_changes_nothing(cb, rt, wecom):
    cb.send(cb.text("qiye1", "延期 全部 2018-11-20"))
    deliver(rt)
    assert "不适用" in texts(wecom, "qiye1")[-1]
    with rt.sessions() as s:
        assert audit.entries(s, action="deadline.extend") == []
