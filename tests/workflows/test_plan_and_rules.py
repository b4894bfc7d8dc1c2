"""Stages 1 and 2 are decisions, not dates (issue 23.6): the city's approval of the 实施方案 and the committee's
adoption of its 议事规则 are recorded (document, date, minutes; audited); no vote opens before the 议事规则."""
from __future__ import annotations

import datetime as dt

import pytest

from workflows import committee, voting
from workflows.core import audit
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed
from workflows.voting.models import Ballot

from .test_voting import VOTE_TIME, seed


def test_no_vote_opens_before_the_rules_are_recorded(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        candidates = seed(s, settings, clock(), rules=False)
        with pytest.raises(InvalidInput) as err:
            voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=candidates)
        assert err.value.code == "vote_rules_not_recorded"
        assert s.query(Ballot).count() == 0
        committee.record_meeting(s, settings, actor="mishu", now=clock(), held_on=dt.date(2018, 9, 10),
                                 attendees=["吴海"], decisions="审议通过议事规则。", minutes_ref="纪要〔2018〕1号")
        assert voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=candidates).status == "open"
        entry = audit.entries(s, action="committee.rules")[0]
        assert entry.details["minutes_ref"] == "纪要〔2018〕1号"
        assert committee.rules_data(s, settings)["meeting"]["minutes_ref"] == "纪要〔2018〕1号"


def test_the_plan_approval_is_recorded_once_audited(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        seed(s, settings, clock(), n=1, rules=False)
        assert committee.plan_approval(s, settings) is None
        with pytest.raises(NotAllowed):
            committee.record_plan_approval(s, settings, actor="weiyuan1", now=clock(),
                                           approved_on=dt.date(2018, 8, 28), document_number="韶府函〔2018〕88号")
        with pytest.raises(InvalidInput) as err:
            committee.record_plan_approval(s, settings, actor="mishu", now=clock(),
                                           approved_on=dt.date(2030, 1, 1), document_number="韶府函〔2018〕88号")
        assert err.value.code == "plan_bad_date"
        with pytest.raises(InvalidInput):
            committee.record_plan_approval(s, settings, actor="mishu", now=clock(),
                                           approved_on=dt.date(2018, 8, 28), document_number="  ")
        row = committee.record_plan_approval(s, settings, actor="mishu", now=clock(),
                                             approved_on=dt.date(2018, 8, 28), document_number="韶府函〔2018〕88号")
        assert (row.document_number, row.approved_on) == ("韶府函〔2018〕88号", "2018-08-28")
        with pytest.raises(AlreadyDone):
            committee.record_plan_approval(s, settings, actor="mishu", now=clock(),
                                           approved_on=dt.date(2018, 8, 29), document_number="韶府函〔2018〕89号")
        [entry] = audit.entries(s, action="plan.approval")
        assert entry.actor == "mishu" and entry.details["document_number"] == "韶府函〔2018〕88号"
        assert committee.plan_data(s, settings)["plan"]["approved_on"] == "2018-08-28"


def test_every_stage_has_a_start_and_a_deadline(settings):
    award = settings.award
    assert all(st.start is not None and st.start <= st.deadline for st in award.stages)
    assert award.stage("material").start.date() == dt.date(2018, 12, 1)      # [seed §三(七)]
    assert award.stage("award").start.date() == dt.date(2019, 4, 1)         # [seed §三(九)]
    shifted = settings.with_calendar_shift(10)
    assert shifted.award.stage("material").start.date() == dt.date(2018, 12, 11)
