"""23.5: §五(一) 成立由分管副市长为主任的…评审委员会 — the committee's appointment is recorded (who, office, document,
from when) and the chair is who holds the chair office, not whom a roster file calls chair."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.workflows.test_voting import ROSTER
from workflows import committee
from workflows.core import audit, people
from workflows.core.errors import InvalidInput, NotAllowed, NotFound
from workflows.core.models import OutboxMessage, Person

NOW = dt.datetime(2018, 9, 5, 2, 0, tzinfo=dt.timezone.utc)
DOC = "韶府办函〔2018〕56号"


@pytest.fixture
def world(sessions):
    with sessions.begin() as s:
        people.import_roster(s, ROSTER, actor="system", now=NOW)
    return sessions


def _appoint(s, settings, who, office, actor="mishu"):
    return committee.appoint(s, settings, actor=actor, now=NOW, who=who, office=office, document=DOC,
                             effective_from=dt.date(2018, 9, 1))


def test_the_appointment_is_recorded_and_the_chair_office_chairs(world, settings):
    assert settings.award.committee.chair_office == "分管副市长"                 # [seed §五(一)]
    with world.begin() as s:
        with pytest.raises(NotAllowed):
            _appoint(s, settings, "weiyuan2", "发改局局长", actor="weiyuan1")       # the secretariat records it
        with pytest.raises(NotFound):
            _appoint(s, settings, "nobody", "局长")
        with pytest.raises(InvalidInput) as exc:
            _appoint(s, settings, "zhuanjia1", "专家")                             # not a committee member
        assert exc.value.code == "appoint_not_committee"
        row = _appoint(s, settings, "委员·郑涛", "发改局局长")                      # by name
        assert (row.userid, row.office, row.document, row.effective_from, row.chair) == (
            "weiyuan2", "发改局局长", DOC, "2018-09-01", False)
        # The roster called weiyuan1 the chair; the chair is whoever is appointed 分管副市长.
        _appoint(s, settings, "weiyuan3", "分管副市长")
        assert [p.userid for p in people.with_role(s, "committee_chair")] == ["weiyuan3"]
        assert s.get(Person, "weiyuan1").role == "committee"
        [entry] = [e for e in audit.entries(s, action="committee.appoint") if e.details["userid"] == "weiyuan3"]
        assert entry.details["chair"] is True and entry.details["chairs_stepped_down"] == ["weiyuan1"]
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "committee.appointed",
                                                     OutboxMessage.recipient == "weiyuan3")).one()
        assert told.data["chair"] is True and told.data["document"] == DOC
        view = committee.composition(s, settings)
        assert [a["userid"] for a in view["appointments"]] == ["weiyuan3", "weiyuan2"]      # the chair first
        assert {m["userid"] for m in view["missing"]} == {"weiyuan1", "weiyuan4", "weiyuan5", "weiyuan6", "weiyuan7"}


def test_a_new_chair_appointment_hands_the_chair_over_and_a_chair_in_another_office_steps_down(world, settings):
    with world.begin() as s:
        _appoint(s, settings, "weiyuan1", "分管副市长")
        assert s.get(Person, "weiyuan1").role == "committee_chair"
        _appoint(s, settings, "weiyuan4", "分管副市长")                        # a new 分管副市长 (e.g. a reshuffle)
        assert [a.userid for a in committee.appointments(s, settings) if a.chair] == ["weiyuan4"]
        assert s.get(Person, "weiyuan1").role == "committee"
        _appoint(s, settings, "weiyuan4", "市长助理")                            # re-appointed in another office
        assert people.with_role(s, "committee_chair") == []
        with pytest.raises(InvalidInput) as exc:
            _appoint(s, settings, "weiyuan5", "  ")
        assert exc.value.code == "appoint_bad_office"
