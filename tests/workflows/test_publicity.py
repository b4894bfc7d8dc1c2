"""The public notice: window arithmetic in the service, who is told, and what is refused."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from workflows.core import audit, stages
from workflows import publicity
from workflows.core.errors import AlreadyDone, DomainError, InvalidInput, StageClosed
from workflows.core.models import OutboxMessage
from workflows.publicity.window import WindowState

from .publicity_fixtures import SH, START, make_apps, make_roster, committee_result


def _start(s, settings, now=START, winners=None, reserve=None, accept_late=False):
    ids = make_apps(s, settings)
    make_roster(s)
    committee_result(s, settings, ids[:3] if winners is None else winners, ids[3:] if reserve is None else reserve)
    pub = publicity.start_publicity(s, settings, actor="mishu1", now=now, accept_late=accept_late)
    return ids, pub


def test_ten_calendar_days_across_a_month_end(settings, sessions):
    with sessions.begin() as s:
        stages.open_stage(s, settings, "publicity", actor="system", now=START)
        # Published 2019-01-25 16:00 Shanghai: day 1 is 01-25, day 10 is 02-03 (January has 31 days).
        _, pub = _start(s, settings, now=dt.datetime(2019, 1, 25, 16, 0, tzinfo=SH))
        assert pub.last_day == "2019-02-03"
        assert pub.end == dt.datetime(2019, 2, 4, 0, 0, tzinfo=SH)
        v = publicity.view(s, settings, now=dt.datetime(2019, 2, 3, 23, 59, tzinfo=SH))
        assert v.state is WindowState.OPEN
        assert publicity.view(s, settings, now=dt.datetime(2019, 2, 4, 0, 0, tzinfo=SH)).state is WindowState.CLOSED


def test_start_day_not_counted_moves_the_end(settings, sessions):
    settings = settings.with_overrides(award={"rules": {**settings.award.rules.model_dump(),
                                                        "publicity_start_day_counts": False, "publicity_days": 5}})
    with sessions.begin() as s:
        # a late start (its window ends after the stage's deadline of 02-25), accepted by the operator
        _, pub = _start(s, settings, now=dt.datetime(2019, 2, 26, 9, 0, tzinfo=SH) - dt.timedelta(days=1),
                        accept_late=True)
        # 2019-02-25 09:00 + 5 days not counting the 25th: 26, 27, 28, 03-01, 03-02.
        assert pub.last_day == "2019-03-02"


def test_start_tells_the_roster_and_the_candidates_with_the_window(settings, sessions):
    with sessions.begin() as s:
        ids, pub = _start(s, settings)
        rows = s.scalars(select(OutboxMessage)).all()
        started = {r.recipient for r in rows if r.kind == "publicity.started"}
        assert started == {"mishu1", "weiyuan1", "weiyuan2", "zhuren", "zhuanjia1"}
        candidates = sorted(r.recipient for r in rows if r.kind == "publicity.candidate")
        assert candidates == ["qiye1", "qiye2", "qiye3"]  # not the reserve
        one = next(r for r in rows if r.kind == "publicity.started")
        assert one.data["last_day"] == "2019-02-10" and [w["number"] for w in one.data["winners"]] == [
            "SG2018-001", "SG2018-002", "SG2018-003"]
        assert stages.status(s, settings, "publicity") == "open"
        assert [e.action for e in audit.entries(s, action="publicity.start")] == ["publicity.start"]


@pytest.mark.parametrize("winners,reserve,code", [
    (None, [], "publicity_vote_unavailable"),        # no closed, decided committee vote: nothing to publish
    ([1, 99], [], "publicity_unknown_application"),
])
def test_only_the_committee_result_is_published_and_bad_ones_change_nothing(settings, sessions, winners, reserve,
                                                                             code):
    with sessions.begin() as s:
        make_apps(s, settings)
        make_roster(s)
        if winners is not None:
            committee_result(s, settings, winners, reserve)
        with pytest.raises(InvalidInput) as err:
            with s.begin_nested():
                publicity.start_publicity(s, settings, actor="mishu1", now=START)
        assert err.value.code == code
        assert publicity.current(s, settings) is None
        assert s.scalars(select(OutboxMessage)).all() == []


def test_there_is_no_other_list_to_publish(settings, sessions):
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        with pytest.raises(TypeError):
            publicity.start_publicity(s, settings, actor="mishu1", now=START, winners=ids[3:])
        pub = publicity.start_publicity(s, settings, actor="mishu1", now=START)
        assert pub.winners == ids[:3] and pub.reserve == ids[3:]


def test_started_once_per_edition(settings, sessions):
    with sessions.begin() as s:
        ids, _ = _start(s, settings)
        with pytest.raises(AlreadyDone):
            publicity.start_publicity(s, settings, actor="mishu1", now=START)


def test_not_after_the_publicity_stage_deadline(settings, sessions):
    with sessions.begin() as s:
        with pytest.raises(StageClosed):
            _start(s, settings, now=dt.datetime(2019, 2, 26, 9, 0, tzinfo=SH))


def test_report_waits_for_the_window_and_for_every_conclusion(settings, sessions):
    with sessions.begin() as s:
        _start(s, settings)
        with pytest.raises(DomainError) as err:
            publicity.send_report(s, settings, actor="mishu1", now=START + dt.timedelta(days=3))
        assert err.value.code == "publicity_window_still_open"
        data = publicity.send_report(s, settings, actor="mishu1", now=START + dt.timedelta(days=11))
        assert data["complaints"] == []
        sent = {r.recipient for r in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "publicity.report"))}
        assert sent == {"weiyuan1", "weiyuan2", "zhuren"}
