"""Complaints before, during and after the window; conclusions; an upheld complaint replacing a winner."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from workflows.core import audit, conversation
from workflows import publicity
from workflows.publicity import places
from workflows.core.errors import AlreadyDone, DomainError, InvalidInput, NotAllowed, NotFound
from workflows.publicity.models import Complaint
from workflows.core.models import OutboxMessage

from .publicity_fixtures import SH, START, make_apps, make_roster, committee_result

CONTENT = "该企业近三年发生过一次重大质量事故，申报材料中未如实说明。"


@pytest.fixture
def edition(settings, sessions):
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
    return ids


def lodge(s, settings, now, userid="gongzhong1", choice="2", name="王小明", phone="13912345678"):
    publicity.begin(s, settings, userid=userid, now=now)
    conv = conversation.current(s, userid)
    publicity.choose_target(s, settings, conv, choice, now=now)
    publicity.set_content(s, settings, conv, CONTENT, now=now)
    publicity.evidence_done(s, settings, conv, now=now)
    publicity.set_name(s, settings, conv, name, now=now)
    return publicity.submit(s, settings, conv, phone, now=now)


def test_before_the_notice_starts_there_is_nothing_to_complain_about(settings, sessions):
    with sessions.begin() as s:
        with pytest.raises(NotFound) as err:
            publicity.begin(s, settings, userid="gongzhong1", now=START)
        assert err.value.code == "publicity_not_started"


def test_during_the_window_a_complaint_gets_a_number_and_the_secretariat_is_told(settings, sessions, edition):
    with sessions.begin() as s:
        c = lodge(s, settings, START + dt.timedelta(days=9, hours=13))  # 2019-02-10 23:00, the last day
        assert c.number == "TS2018-001" and c.status == "submitted" and c.application_id == edition[1]
        assert (c.real_name, c.phone, c.anonymous) == ("王小明", "13912345678", False)
        assert conversation.current(s, "gongzhong1") is None
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "complaint.received")).all()
        assert [r.recipient for r in told] == ["mishu1"] and told[0].data["complaint"]["number"] == "TS2018-001"
        assert lodge(s, settings, START + dt.timedelta(days=1), userid="gongzhong2").number == "TS2018-002"


def test_after_the_window_the_bot_says_closed_and_when_it_was_open(settings, sessions, edition):
    with sessions.begin() as s:
        with pytest.raises(InvalidInput) as err:
            publicity.begin(s, settings, userid="gongzhong1", now=dt.datetime(2019, 2, 11, 0, 0, tzinfo=SH))
        assert err.value.code == "complaint_window_closed"
        assert err.value.data["last_day"] == "2019-02-10" and err.value.data["state"] == "closed"
        assert conversation.current(s, "gongzhong1") is None


def test_window_closing_during_the_intake_refuses_the_submission(settings, sessions, edition):
    with sessions.begin() as s:
        now = dt.datetime(2019, 2, 10, 23, 50, tzinfo=SH)
        publicity.begin(s, settings, userid="u1", now=now)
        conv = conversation.current(s, "u1")
        publicity.choose_target(s, settings, conv, "1", now=now)
        publicity.set_content(s, settings, conv, CONTENT, now=now)
        publicity.evidence_done(s, settings, conv, now=now)
        publicity.set_name(s, settings, conv, "李四", now=now)
        with pytest.raises(InvalidInput) as err:
            publicity.submit(s, settings, conv, "13912345678", now=now + dt.timedelta(minutes=11))
        assert err.value.code == "complaint_window_closed"
        assert publicity.listing(s, settings) == []


@pytest.mark.parametrize("step_input,code", [
    (("choice", "0"), "complaint_bad_choice"), (("choice", "4"), "complaint_bad_choice"),
    (("choice", "二"), "complaint_bad_choice"), (("content", "太短"), "complaint_bad_content"),
    (("name", "匿名"), "complaint_real_name_required"), (("name", "12"), "complaint_bad_name"),
    (("phone", "12345"), "complaint_bad_phone"),
])
def test_bad_input_is_refused_and_the_step_stays(settings, sessions, edition, step_input, code):
    where, bad = step_input
    now = START + dt.timedelta(days=1)
    with sessions.begin() as s:
        publicity.begin(s, settings, userid="u1", now=now)
        conv = conversation.current(s, "u1")
        steps = [("choice", lambda t: publicity.choose_target(s, settings, conv, t, now=now), "1"),
                 ("content", lambda t: publicity.set_content(s, settings, conv, t, now=now), CONTENT),
                 ("name", lambda t: publicity.set_name(s, settings, conv, t, now=now), "李四"),
                 ("phone", lambda t: publicity.submit(s, settings, conv, t, now=now), "13912345678")]
        for name, fn, good in steps:
            if name == where:
                before = conv.step
                with pytest.raises(InvalidInput) as err:
                    fn(bad)
                assert err.value.code == code and conv.step == before
                return
            fn(good)
            if name == "content":
                publicity.evidence_done(s, settings, conv, now=now)


def test_anonymous_complaints_where_configured(settings, sessions, edition):
    settings = settings.with_overrides(award={"rules": {**settings.award.rules.model_dump(),
                                                        "anonymous_complaints": True}})
    with sessions.begin() as s:
        c = lodge(s, settings, START + dt.timedelta(days=1), name="匿名", phone="匿名")
        assert c.anonymous and c.real_name is None and c.phone is None


def test_not_upheld_tells_the_complainant_and_keeps_the_winner(settings, sessions, edition):
    with sessions.begin() as s:
        c = lodge(s, settings, START + dt.timedelta(days=1))
        publicity.conclude(s, settings, actor="mishu1", now=START + dt.timedelta(days=4), number=c.number,
                            upheld=False, findings="经现场核实，事故系供应商责任且已整改。", reason="不构成重大质量事故")
        pub = publicity.current(s, settings)
        assert pub.winners == edition[:3] and pub.removed == []
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "complaint.concluded")).one()
        assert told.recipient == "gongzhong1" and told.data["complaint"]["upheld"] is False
        with pytest.raises(AlreadyDone):
            publicity.conclude(s, settings, actor="mishu1", now=START, number=c.number, upheld=True,
                                findings="x", reason="y", outcome="remove")


def test_upheld_complaint_refers_the_place_and_the_committee_replaces_it(settings, sessions, edition):
    with sessions.begin() as s:
        c = lodge(s, settings, START + dt.timedelta(days=1), choice="2")
        publicity.conclude(s, settings, actor="mishu1", now=START + dt.timedelta(days=5), number=c.number.lower(),
                            upheld=True, findings="核实存在未申报的重大事故。", reason="不符合申报条件", outcome="remove")
        pub = publicity.current(s, settings)
        # The secretariat verifies and refers; it does not take the winner off the list (issue 21.4).
        assert pub.winners == edition[:3] and pub.removed == []
        [entry] = audit.entries(s, action="complaint.conclude")
        assert entry.details["outcome"] == "remove" and entry.details["referred"] is True
        assert entry.details["proposed_removal"] == edition[1]
        referred = s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "publicity.place_referred"))
        assert sorted(referred) == ["weiyuan1", "weiyuan2", "zhuren"]
        # The report waits for the committee's decision.
        with pytest.raises(DomainError) as err:
            publicity.send_report(s, settings, actor="mishu1", now=START + dt.timedelta(days=11))
        assert err.value.code == "places_pending"
        # Only the chair, for the committee, decides.
        with pytest.raises(NotAllowed):
            places.decide(s, settings, actor="mishu1", now=START + dt.timedelta(days=6), complaint_number=c.number,
                          decision="replace", reason="评审委员会第二次会议决定递补")
        decided_at = START + dt.timedelta(days=6)
        row = places.decide(s, settings, actor="zhuren", now=decided_at, complaint_number=c.number,
                            decision="replace", reason="评审委员会第二次会议决定递补")
        assert pub.winners == [edition[0], edition[3], edition[2]]  # the 4th-ranked takes place 2
        assert pub.removed == [edition[1]]                          # removed by the committee's decision
        assert row.replacement_id == edition[3] and row.last_day == "2019-02-16"   # its own 10-day window
        [entry] = audit.entries(s, action="committee.place_decision")
        assert entry.actor == "zhuren" and entry.details["replacement"] == edition[3]
        assert entry.details["removed_by_committee"] is True
        # The enterprise taken off hears it, without anyone's scores.
        [gone] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "publicity.removed")).all()
        assert gone.recipient == "qiye2" and gone.data["reason"] == "不符合申报条件"
        assert s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "publicity.replacement")).all() \
            == ["qiye4"]
        with pytest.raises(AlreadyDone):
            places.decide(s, settings, actor="zhuren", now=decided_at, complaint_number=c.number,
                          decision="vacant", reason="再次决定空缺")
        # Complaints during the replacement's own window are about the replacement only.
        assert publicity.targets(s, settings, now=START + dt.timedelta(days=12)) == [edition[3]]
        with pytest.raises(DomainError) as err:
            publicity.send_report(s, settings, actor="mishu1", now=START + dt.timedelta(days=12))
        assert err.value.code == "publicity_window_still_open"
        data = publicity.verification_report(s, settings, now=START + dt.timedelta(days=17))
        assert data["upheld"] == 1 and data["complaints"][0]["replacement"]["number"] == "SG2018-004"
        assert data["places"][0]["status"] == "replace"
        publicity.send_report(s, settings, actor="mishu1", now=START + dt.timedelta(days=17))


def test_the_secretariat_cannot_replace_or_vacate(settings, sessions, edition):
    with sessions.begin() as s:
        c = lodge(s, settings, START + dt.timedelta(days=1), choice="1")
        for outcome in (None, "replace", "vacant"):
            with pytest.raises(InvalidInput) as err:
                publicity.conclude(s, settings, actor="mishu1", now=START, number=c.number, upheld=True,
                                    findings="属实", reason="属实", outcome=outcome)
            assert err.value.code == "complaint_bad_outcome"
        assert publicity.current(s, settings).winners == edition[:3]


def test_the_committee_can_leave_the_place_vacant(settings, sessions, edition):
    with sessions.begin() as s:
        c = lodge(s, settings, START + dt.timedelta(days=1), choice="1")
        publicity.conclude(s, settings, actor="mishu1", now=START, number=c.number, upheld=True,
                            findings="属实", reason="属实", outcome="remove")
        with pytest.raises(InvalidInput) as err:
            places.decide(s, settings, actor="zhuren", now=START, complaint_number=c.number, decision="vacant",
                          reason="")
        assert err.value.code == "place_reason_missing"
        places.decide(s, settings, actor="zhuren", now=START, complaint_number=c.number, decision="vacant",
                      reason="评审委员会决定该名额空缺")
        assert publicity.current(s, settings).winners == edition[1:3]
        assert places.window_of(places.decisions(s, settings)[0]) is None


def test_report_refused_while_a_complaint_is_unconcluded(settings, sessions, edition):
    with sessions.begin() as s:
        lodge(s, settings, START + dt.timedelta(days=1))
        with pytest.raises(DomainError) as err:
            publicity.send_report(s, settings, actor="mishu1", now=START + dt.timedelta(days=11))
        assert err.value.code == "complaints_pending" and err.value.data["numbers"] == ["TS2018-001"]


def test_evidence_is_recorded_once_per_content(settings, sessions, edition):
    with sessions.begin() as s:
        now = START + dt.timedelta(days=1)
        publicity.begin(s, settings, userid="u1", now=now)
        conv = conversation.current(s, "u1")
        publicity.choose_target(s, settings, conv, "1", now=now)
        draft = publicity.set_content(s, settings, conv, CONTENT, now=now)
        for _ in range(2):
            publicity.attach_evidence(s, complaint_id=draft.id, sha256="a" * 64, size=3, kind="pdf",
                                       original_name="证据.pdf", now=now)
        assert len(publicity.complaint_data(s, s.get(Complaint, draft.id))["evidence"]) == 1


def test_the_committee_may_keep_a_winner_the_secretariat_proposed_to_remove(settings, sessions, edition):
    """Issue 21.4: removal is the committee's decision, not the secretariat's."""
    with sessions.begin() as s:
        c = lodge(s, settings, START + dt.timedelta(days=1), choice="1")
        publicity.conclude(s, settings, actor="mishu1", now=START, number=c.number, upheld=True,
                            findings="部分属实", reason="情节轻微", outcome="remove")
        assert publicity.current(s, settings).winners == edition[:3]
        with pytest.raises(NotAllowed):     # the secretariat cannot decide it either
            places.decide(s, settings, actor="mishu1", now=START, complaint_number=c.number, decision="keep",
                          reason="秘书处认为可以保留")
        row = places.decide(s, settings, actor="zhuren", now=START, complaint_number=c.number, decision="keep",
                            reason="评审委员会第二次会议决定保留")
        assert row.status == "kept" and places.pending(s, settings) == []
        pub = publicity.current(s, settings)
        assert pub.winners == edition[:3] and pub.removed == []
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "publicity.removed")).all() == []
        [entry] = audit.entries(s, action="committee.place_decision")
        assert entry.details["decision"] == "keep" and entry.details["removed_by_committee"] is False
        with pytest.raises(AlreadyDone):
            places.decide(s, settings, actor="zhuren", now=START, complaint_number=c.number, decision="vacant",
                          reason="再次决定空缺")
