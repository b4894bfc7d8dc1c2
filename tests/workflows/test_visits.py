"""Site visits: proposal checks, the enterprise's answer, changes told to everyone concerned, the day-before reminder."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.workflows.scoringdata import T_SITE, add_application, add_roster, open_phase
from workflows import edition
from workflows.core import reminders
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from workflows.core.models import AuditEntry, CardTask, OutboxMessage
from workflows.scoring import visits
from workflows.scoring.models import Shortlist

NOW = T_SITE                                                       # 2019-01-05 10:00 Beijing
VISIT = dt.datetime(2019, 1, 10, 1, 0, tzinfo=dt.timezone.utc)      # 2019-01-10 09:00 Beijing


@pytest.fixture
def world(sessions, settings):
    with sessions.begin() as s:
        add_roster(s, NOW)
        for n, name in ((1, "企业一"), (2, "企业二"), (3, "韶钢集团")):
            app = add_application(s, settings, n, name=name, now=NOW)
            if n != 2:
                s.add(Shortlist(edition=settings.award.edition_key, kind="site", application_id=app.id, position=n,
                                score="600", decided_by="mishu", decided_at=NOW))
        open_phase(s, settings, "site", NOW)
    return sessions


def _propose(s, settings, number="SG2018-001", experts=("e1", "e2"), when=VISIT, itinerary="9:00 座谈；10:30 查看现场"):
    return visits.propose(s, settings, actor="mishu", now=NOW, number=number, starts_at=when, experts=list(experts),
                          itinerary=itinerary)


def _sent(s, kind, to=None):
    q = select(OutboxMessage).where(OutboxMessage.kind == kind)
    if to:
        q = q.where(OutboxMessage.recipient == to)
    return s.scalars(q.order_by(OutboxMessage.id)).all()


def test_a_proposal_is_checked_before_anything_is_sent(world, settings):
    with world.begin() as s:
        cases = [(dict(number="SG2018-002"), "visit_not_candidate"),          # not on the site shortlist
                 (dict(number="SG2018-999"), "visit_not_candidate"),
                 (dict(when=NOW - dt.timedelta(hours=1)), "visit_in_past"),
                 (dict(experts=()), "visit_no_experts"),
                 (dict(experts=("e1", "nobody")), "visit_unknown_expert"),
                 (dict(number="SG2018-003", experts=("e6",)), "visit_expert_conflict"),  # e6 works at 韶钢集团
                 (dict(itinerary="  "), "visit_no_itinerary")]
        for kwargs, code in cases:
            with pytest.raises((InvalidInput, NotFound)) as exc:
                _propose(s, settings, **kwargs)
            assert exc.value.code == code, kwargs
        with pytest.raises(NotAllowed):
            visits.propose(s, settings, actor="e1", now=NOW, number="SG2018-001", starts_at=VISIT, experts=["e1"],
                           itinerary="x")
        assert _sent(s, "visits.expert_notice") == [] and s.scalars(select(CardTask)).all() == []


def test_the_enterprise_confirms_and_the_secretariat_and_experts_are_told(world, settings):
    with world.begin() as s:
        v = _propose(s, settings)
        card = s.scalars(select(CardTask).where(CardTask.kind == "visits.card")).one()
        assert card.recipient == "qiye1" and card.subject == f"visit:{v.id}:1"
        assert [m.recipient for m in _sent(s, "visits.expert_notice")] == ["e1", "e2"]
        with pytest.raises(NotFound):
            visits.confirm(s, settings, actor="qiye3", now=NOW, visit_id=v.id, version=1)   # another enterprise
        with pytest.raises(NotAllowed):
            visits.confirm(s, settings, actor="e1", now=NOW, visit_id=v.id, version=1)      # an expert
        visits.confirm(s, settings, actor="qiye1", now=NOW, visit_id=v.id, version=1)
        assert v.status == "confirmed"
        assert sorted(m.recipient for m in _sent(s, "visits.confirmed")) == ["e1", "e2", "mishu"]
        with pytest.raises(AlreadyDone):
            visits.confirm(s, settings, actor="qiye1", now=NOW, visit_id=v.id, version=1)
        assert [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("visit.%"))
                                            .order_by(AuditEntry.id))] == ["visit.propose", "visit.confirm"]


def test_another_slot_needs_a_reason_and_a_change_is_told_to_everyone_concerned(world, settings):
    with world.begin() as s:
        v = _propose(s, settings)
        with pytest.raises(InvalidInput):
            visits.request_change(s, settings, actor="qiye1", now=NOW, visit_id=v.id, version=1, reason=" ")
        visits.request_change(s, settings, actor="qiye1", now=NOW, visit_id=v.id, version=1,
                              reason="当天迎接省里检查", preferred="1月11日或1月12日上午")
        told = _sent(s, "visits.change_requested", "mishu")
        assert told and told[0].data["visit"]["preferred"] == "1月11日或1月12日上午"
        later = VISIT + dt.timedelta(days=1)
        v = _propose(s, settings, experts=("e2", "e3"), when=later)
        assert (v.version, v.status, v.reason) == (2, "proposed", "")
        assert [m.recipient for m in _sent(s, "visits.removed")] == ["e1"]               # no longer going
        notices = _sent(s, "visits.expert_notice")[-2:]
        assert [m.recipient for m in notices] == ["e2", "e3"] and notices[0].data["before"]["version"] == 1
        with pytest.raises(AlreadyDone) as exc:   # the first card is stale now
            visits.confirm(s, settings, actor="qiye1", now=NOW, visit_id=v.id, version=1)
        assert exc.value.code == "visit_changed"
        visits.confirm(s, settings, actor="qiye1", now=NOW, visit_id=v.id, version=2)
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "visit.change")).one().details["before"][
            "starts_at"] == VISIT.isoformat()


def test_experts_and_the_enterprise_are_reminded_the_day_before_once(world, settings):
    with world.begin() as s:
        v = _propose(s, settings)
        visits.confirm(s, settings, actor="qiye1", now=NOW, visit_id=v.id, version=1)
    day_before = VISIT - dt.timedelta(hours=23)            # 2019-01-09 10:00 Beijing: the "1d" offset is due
    with world.begin() as s:
        sent = reminders.run_due(s, settings, now=day_before, providers=edition.PROVIDERS)
        visit_reminders = sorted((p.obligation.recipient, p.offset) for p in sent if p.obligation.kind == "remind.visit")
        assert visit_reminders == [("e1", "1d"), ("e2", "1d"), ("qiye1", "1d")]
    with world.begin() as s:
        again = reminders.run_due(s, settings, now=day_before + dt.timedelta(minutes=30), providers=edition.PROVIDERS)
        assert [p for p in again if p.obligation.kind == "remind.visit"] == []
        data = _sent(s, "remind.visit", "qiye1")[-1].data
        assert data["enterprise_side"] is True and data["visit"]["number"] == "SG2018-001"


def test_a_proposal_waits_for_the_candidates_and_the_stage_and_keeps_to_its_dates(sessions, settings):
    from workflows.core import stages
    material_open = dt.datetime(2018, 12, 10, 2, 0, tzinfo=dt.timezone.utc)
    with sessions.begin() as s:
        add_roster(s, material_open)
        add_application(s, settings, 1, name="企业一", now=material_open)
        w = visits.window(s, settings, now=material_open)
        assert (w.open, w.reason) == (False, "visit_no_candidates")
        with pytest.raises(NotAllowed) as exc:       # no candidates yet: said when they come
            _propose(s, settings)
        assert exc.value.code == "visit_no_candidates" and exc.value.data["start"] == stages.deadline(
            s, settings, "material")
        s.add(Shortlist(edition=settings.award.edition_key, kind="site", application_id=1, position=1,
                        score="600", decided_by="mishu", decided_at=material_open))
        s.flush()
        with pytest.raises(NotAllowed) as exc:       # neither the material review nor the site stage is open
            visits.propose(s, settings, actor="mishu", now=material_open, number="SG2018-001", starts_at=VISIT,
                           experts=["e1"], itinerary="x")
        assert exc.value.code == "visit_stage_not_open"
        open_phase(s, settings, "material", material_open)   # arranged ahead while the material review is open
        w = visits.window(s, settings, now=material_open)
        assert w.open and w.ahead and w.start == stages.deadline(s, settings, "material")
        with pytest.raises(InvalidInput) as exc:      # before the site stage's dates
            visits.propose(s, settings, actor="mishu", now=material_open, number="SG2018-001",
                           starts_at=material_open + dt.timedelta(days=2), experts=["e1"], itinerary="x")
        assert exc.value.code == "visit_outside_stage"
        with pytest.raises(InvalidInput) as exc:      # after the site stage's deadline
            visits.propose(s, settings, actor="mishu", now=material_open, number="SG2018-001",
                           starts_at=dt.datetime(2019, 1, 21, 1, 0, tzinfo=dt.timezone.utc), experts=["e1"],
                           itinerary="x")
        assert exc.value.code == "visit_outside_stage"
        v = visits.propose(s, settings, actor="mishu", now=material_open, number="SG2018-001", starts_at=VISIT,
                           experts=["e1"], itinerary="x")
        assert v.version == 1
        stages.close_stage(s, settings, "material", actor="mishu", now=T_SITE)
        open_phase(s, settings, "site", T_SITE)
        assert visits.window(s, settings, now=T_SITE).open
        stages.close_stage(s, settings, "site", actor="mishu", now=T_SITE)
        with pytest.raises(NotAllowed) as exc:        # over: said so, nothing changes
            visits.propose(s, settings, actor="mishu", now=T_SITE, number="SG2018-001",
                           starts_at=VISIT + dt.timedelta(days=1), experts=["e1"], itinerary="y")
        assert exc.value.code == "visit_stage_over"
        assert (v.version, v.itinerary) == (1, "x")


def test_progress_carries_the_visit_without_the_experts_names(world, settings):
    from workflows import progress
    with world.begin() as s:
        app = visits.find_application(s, settings, "SG2018-001")
        site = next(st for st in progress.view(s, settings, app, now=NOW)["steps"] if st["key"] == "site")
        assert site["visit"]["status"] == "none" and site["visit"]["end"].date() == dt.date(2019, 1, 20)
        v = _propose(s, settings)
        site = next(st for st in progress.view(s, settings, app, now=NOW)["steps"] if st["key"] == "site")
        assert (site["state"], site["visit"]["status"], site["visit"]["experts"], site["visit"]["changed"]) == (
            "current", "proposed", 2, False)
        assert "e1" not in repr(site["visit"])
        visits.request_change(s, settings, actor="qiye1", now=NOW, visit_id=v.id, version=1, reason="检查",
                              preferred="下周")
        _propose(s, settings, when=VISIT + dt.timedelta(days=1))
        visits.confirm(s, settings, actor="qiye1", now=NOW, visit_id=v.id, version=2)
        site = next(st for st in progress.view(s, settings, app, now=NOW)["steps"] if st["key"] == "site")
        assert (site["visit"]["status"], site["visit"]["changed"], site["visit"]["version"]) == ("confirmed", True, 2)
        other = visits.find_application(s, settings, "SG2018-002")      # not a candidate: no visit shown
        assert all("visit" not in st for st in progress.view(s, settings, other, now=NOW)["steps"])
