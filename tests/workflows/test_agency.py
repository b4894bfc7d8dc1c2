"""23.3: 秘书处委托省内有资质的技术服务机构组织开展评审工作 — the agency organises the expert work with exactly the
powers the configuration delegates, through the one policy table, audited under its members' own userids."""
from __future__ import annotations

import pydantic
import pytest
from sqlalchemy import select

from tests.workflows.scoringdata import T_MATERIAL, add_application, add_roster, open_phase
from workflows.core import access
from workflows.core.errors import NotAllowed
from workflows.core.models import AuditEntry, Person
from workflows.scoring import draw, experts

NOW = T_MATERIAL


@pytest.fixture
def world(sessions, settings):
    with sessions.begin() as s:
        add_roster(s, NOW)
        s.add(Person(userid="jigou1", name="机构·张工", role="agency", organization="广东省质量技术服务中心",
                     region="广州市", updated_at=NOW))
        add_application(s, settings, 1)
        add_application(s, settings, 2)
        open_phase(s, settings, "material", NOW)
    return sessions


def test_the_agency_organises_the_assignment_with_the_delegated_powers_audited_as_its_own(world, settings):
    assert "experts.assign" in settings.award.agency.powers          # [decision] the example's delegation
    with world.begin() as s:
        experts.propose(s, settings, actor="jigou1", now=NOW, phase="material")
        experts.confirm(s, settings, actor="jigou1", now=NOW, phase="material")
        actors = {e.action: e.actor for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(["assignment.propose", "assignment.confirm"])))}
        assert actors == {"assignment.propose": "jigou1", "assignment.confirm": "jigou1"}
        # What is not delegated stays the secretariat's: the draw, the leader, the stages.
        with pytest.raises(NotAllowed) as exc:
            draw.import_pool(s, settings, actor="jigou1", now=NOW, text="name,organisation,region,specialty,contact\n")
        assert exc.value.data["role"] == "agency"


def test_exactly_the_powers_the_configuration_delegates(world, settings):
    narrow = settings.with_overrides(award={"agency": {"name": "某中心", "powers": ["visits.propose"]}})
    with world.begin() as s, pytest.raises(NotAllowed):
        experts.propose(s, narrow, actor="jigou1", now=NOW, phase="material")
    assert access.allows("experts.assign", "agency", access.delegated_by(settings))
    assert not access.allows("experts.assign", "agency", access.delegated_by(narrow))
    assert not access.allows("experts.assign", "expert", access.delegated_by(settings))   # only the agency
    assert access.may_see("agency", "assignments.view", access.delegated_by(settings))
    assert not access.may_see("agency", "edition.overview", access.delegated_by(settings))
    with pytest.raises(pydantic.ValidationError, match="cannot be delegated"):   # decisions are not delegable
        settings.with_overrides(award={"agency": {"powers": ["experts.draw"]}})
