"""A linked-corp member's long id is kept whole through the webhook: the dispatcher no longer cuts it to 64
characters when it promises a stage's opening notice (issue 22.4)."""
from __future__ import annotations

from sqlalchemy import select

from tests.bot.application_helpers import say
from tests.workflows.test_member_ids import LONG
from workflows.core.models import StageWaiter


def test_a_66_character_member_is_promised_the_opening_notice_under_his_whole_id(rt, cb, wecom):
    wecom.set_linked_users({LONG: "李四"})
    replies = say(cb, rt, wecom, LONG, "申报")       # the application stage has not opened yet
    assert replies and "通知您" in replies[-1]
    with rt.sessions() as s:
        assert [(w.stage, w.userid) for w in s.scalars(select(StageWaiter))] == [("apply", LONG)]
