"""23.3 through the real webhook: an agency member finds the delegated words in chat and uses them; what is not
delegated is refused politely."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.bot.application_helpers import say
from tests.workflows.scoringdata import T_MATERIAL, add_application, add_roster, open_phase
from workflows.core.models import AuditEntry, Person


@pytest.fixture
def world(rt, clock):
    clock.set(T_MATERIAL)
    with rt.sessions.begin() as s:
        add_roster(s, T_MATERIAL)
        s.add(Person(userid="jigou1", name="机构·张工", role="agency", organization="广东省质量技术服务中心",
                     region="广州市", updated_at=T_MATERIAL))
        add_application(s, rt.settings, 1)
        open_phase(s, rt.settings, "material", T_MATERIAL)
    return rt


def test_the_agency_assigns_experts_in_chat_and_may_not_draw(world, cb, wecom):
    rt = world
    assert "分配专家" in say(cb, rt, wecom, "jigou1", "帮助")[-1]
    say(cb, rt, wecom, "jigou1", "分配专家")
    say(cb, rt, wecom, "jigou1", "分配专家 确认")
    with rt.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "assignment.confirm")).one()
        assert entry.actor == "jigou1"
    assert "不适用于您的身份" in say(cb, rt, wecom, "jigou1", "专家抽选 3 种子")[-1]
