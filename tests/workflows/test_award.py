"""Approval gates the announcement; award records with the configured prize and payment status."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from workflows.core import audit
from workflows.publicity import places
from workflows import publicity
from workflows.core.errors import AlreadyDone, DomainError, InvalidInput, NotFound
from workflows.publicity.models import AwardRecord
from workflows.core.models import OutboxMessage

from .publicity_fixtures import START, make_apps, make_roster, committee_result

AFTER = START + dt.timedelta(days=11)


@pytest.fixture
def edition(settings, sessions):
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
    return ids


def approve(s, settings, ids, now=AFTER):
    return publicity.record_approval(s, settings, actor="mishu1", now=now, approved_on=now.date(),
                                 document_number="韶府函〔2019〕12号", approved=ids)


def test_nothing_is_announced_before_the_approval(settings, sessions, edition):
    with sessions.begin() as s:
        with pytest.raises(InvalidInput) as err:
            publicity.announce(s, settings, actor="mishu1", now=AFTER)
        assert err.value.code == "award_not_approved"
        assert s.scalars(select(AwardRecord)).all() == []
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("award.%"))).all() == []


def test_approval_needs_the_closed_window_and_the_report(settings, sessions, edition):
    with sessions.begin() as s:
        with pytest.raises(InvalidInput) as err:
            approve(s, settings, edition[:3], now=START + dt.timedelta(days=2))
        assert err.value.code == "publicity_window_still_open"
        with pytest.raises(InvalidInput) as err:
            approve(s, settings, edition[:3])
        assert err.value.code == "approval_report_not_sent"


def test_approval_then_announcement_congratulates_each_winner(settings, sessions, edition):
    with sessions.begin() as s:
        publicity.send_report(s, settings, actor="mishu1", now=AFTER)
        with pytest.raises(InvalidInput) as err:
            approve(s, settings, [edition[0], edition[3]])  # the 4th was never proposed
        assert err.value.code == "approval_not_proposed"
        approve(s, settings, edition[:3])
        with pytest.raises(AlreadyDone):
            approve(s, settings, edition[:3])
        recs = publicity.announce(s, settings, actor="mishu1", now=AFTER + dt.timedelta(days=1))
        assert [(r.prize_yuan, r.plaque, r.certificate, r.payment_status) for r in recs] == [
            (500000, True, True, "pending")] * 3
        congrats = s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "award.congratulations")).all()
        assert sorted(congrats) == ["qiye1", "qiye2", "qiye3"]
        announced = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "award.announced")).all()
        assert {r.recipient for r in announced} == {"mishu1", "weiyuan1", "weiyuan2", "zhuren", "zhuanjia1"}
        assert announced[0].data["document_number"] == "韶府函〔2019〕12号"
        with pytest.raises(AlreadyDone):
            publicity.announce(s, settings, actor="mishu1", now=AFTER + dt.timedelta(days=2))


def test_prize_amount_comes_from_configuration_and_payment_is_updated(settings, sessions, edition):
    settings = settings.with_overrides(award={"rules": {**settings.award.rules.model_dump(), "prize_yuan": 300000}})
    with sessions.begin() as s:
        publicity.send_report(s, settings, actor="mishu1", now=AFTER)
        approve(s, settings, edition[:2])
        places.decide(s, settings, actor="zhuren", now=AFTER, complaint_number="SG2018-003", decision="vacant",
                      reason="评审委员会决定该名额空缺")
        publicity.announce(s, settings, actor="mishu1", now=AFTER)
        with pytest.raises(InvalidInput):
            publicity.set_payment(s, settings, actor="mishu1", now=AFTER, ref="SG2018-001", status="lost")
        with pytest.raises(NotFound):
            publicity.set_payment(s, settings, actor="mishu1", now=AFTER, ref="SG2018-003", status="paid")
        rec = publicity.set_payment(s, settings, actor="mishu1", now=AFTER, ref="SG2018-001", status="paid",
                                reference="财政拨付 2019-0412")
        assert (rec.prize_yuan, rec.payment_status, rec.payment_reference) == (300000, "paid", "财政拨付 2019-0412")
        assert audit.entries(s, action="award.payment")[0].details["new"] == "paid"
        paid = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "award.paid")).one()
        assert paid.recipient == "qiye1" and paid.data["prize_yuan"] == 300000


def test_an_enterprise_the_city_did_not_approve_is_told(settings, sessions, edition):
    """Issue 23.13: told at the approval gate, kindly, without scores."""
    with sessions.begin() as s:
        publicity.send_report(s, settings, actor="mishu1", now=AFTER)
        approve(s, settings, edition[:2])
        [told] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "publicity.not_approved")).all()
        assert told.recipient == "qiye3" and told.data["document_number"] == "韶府函〔2019〕12号"
        assert "score" not in str(told.data) and "composite" not in str(told.data)
        [entry] = audit.entries(s, action="approval.record")
        assert entry.details["left_out"] == [edition[2]]


def test_a_place_the_city_left_out_is_the_committees_and_a_replacement_needs_the_citys_approval(
        settings, sessions, edition):
    """Issue 23.11: the city approves fewer; the committee decides the place; the replacement is published and
    then approved by the city; the award waits for it."""
    with sessions.begin() as s:
        publicity.send_report(s, settings, actor="mishu1", now=AFTER)
        approve(s, settings, [edition[0], edition[2]])
        [row] = places.pending(s, settings)
        assert row.cause == "approval" and row.removed_id == edition[1] and row.complaint_id is None
        referred = s.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.kind == "publicity.place_referred_approval")).all()
        assert sorted(referred) == ["weiyuan1", "weiyuan2", "zhuren"]
        with pytest.raises(DomainError) as err:
            publicity.announce(s, settings, actor="mishu1", now=AFTER)
        assert err.value.code == "award_places_pending"
        with pytest.raises(InvalidInput) as err:          # the city decided: the committee cannot keep it
            places.decide(s, settings, actor="zhuren", now=AFTER, complaint_number="SG2018-002", decision="keep",
                          reason="评审委员会决定保留")
        assert err.value.code == "place_keep_after_approval"
        row = places.decide(s, settings, actor="zhuren", now=AFTER, complaint_number="SG2018-002",
                            decision="replace", reason="评审委员会第三次会议决定递补")
        assert row.replacement_id == edition[3]
        pub = publicity.current(s, settings)
        assert pub.winners == [edition[0], edition[3], edition[2]] and pub.removed == [edition[1]]
        # told once, at the approval (not again at the committee's decision)
        assert s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind.in_(
            ("publicity.not_approved", "publicity.removed")))).all() == ["qiye2"]
        with pytest.raises(InvalidInput) as err:          # its own notice window first
            approve(s, settings, [edition[3]], now=AFTER + dt.timedelta(days=2))
        assert err.value.code == "publicity_window_still_open"
        with pytest.raises(AlreadyDone):                  # only the replacement can be approved now
            approve(s, settings, [edition[4]], now=AFTER + dt.timedelta(days=12))
        approve(s, settings, [edition[3]], now=AFTER + dt.timedelta(days=12))
        assert publicity.current_approval(s, settings).approved == [edition[0], edition[2], edition[3]]
        assert audit.entries(s, action="approval.supplement")[0].details["approved"] == [edition[3]]
        recs = publicity.announce(s, settings, actor="mishu1", now=AFTER + dt.timedelta(days=13))
        assert sorted(r.application_id for r in recs) == [edition[0], edition[2], edition[3]]


def test_a_recorded_payment_is_not_silently_overwritten(settings, sessions, edition):
    """Issue 21.3: a second payment for a winner already paid is refused; a correction needs a reason and keeps
    the old reference in the audit."""
    with sessions.begin() as s:
        publicity.send_report(s, settings, actor="mishu1", now=AFTER)
        approve(s, settings, edition[:3])
        publicity.announce(s, settings, actor="mishu1", now=AFTER)
        publicity.set_payment(s, settings, actor="mishu1", now=AFTER, ref="SG2018-001", status="paid",
                              reference="财拨2019-7")
        with pytest.raises(AlreadyDone) as err:
            publicity.set_payment(s, settings, actor="mishu1", now=AFTER, ref="SG2018-001", status="paid",
                                  reference="财拨2019-8")
        assert err.value.code == "award_already_paid" and err.value.data["reference"] == "财拨2019-7"
        with pytest.raises(AlreadyDone):
            publicity.set_payment(s, settings, actor="mishu1", now=AFTER, ref="SG2018-001", status="pending")
        with pytest.raises(InvalidInput) as err:
            publicity.set_payment(s, settings, actor="mishu1", now=AFTER, ref="SG2018-001", status="paid",
                                  reference="财拨2019-8", replace_reason="  ")
        assert err.value.code == "award_payment_replace_no_reason"
        rec = publicity.find_record(s, settings, "SG2018-001")
        assert rec.payment_reference == "财拨2019-7"
        # The same payment recorded again changes nothing (and tells nobody twice).
        publicity.set_payment(s, settings, actor="mishu1", now=AFTER, ref="SG2018-001", status="paid",
                              reference="财拨2019-7")
        assert len(audit.entries(s, action="award.payment")) == 1
        later = AFTER + dt.timedelta(days=1)
        publicity.set_payment(s, settings, actor="mishu1", now=later, ref="SG2018-001", status="paid",
                              reference="财拨2019-8", replace_reason="凭证号录入错误")
        assert rec.payment_reference == "财拨2019-8"
        fix = audit.entries(s, action="award.payment_corrected")[0].details
        assert (fix["old_reference"], fix["reference"], fix["reason"]) == ("财拨2019-7", "财拨2019-8", "凭证号录入错误")
        assert len(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "award.paid")).all()) == 1


def test_approval_and_announcement_keep_the_seed_dates(settings, sessions, edition):
    """Issue 23.11: the approval is dated after the notice and recorded before the approval stage's deadline (3月30日)
    unless the delay is accepted; the announcement follows it and opens the award stage, never after it closed."""
    from workflows.core import stages
    late = dt.datetime(2019, 3, 31, 10, 0, tzinfo=START.tzinfo)
    with sessions.begin() as s:
        publicity.send_report(s, settings, actor="mishu1", now=AFTER)
        with pytest.raises(InvalidInput) as err:   # the notice's last day (02-10) is not after the notice
            publicity.record_approval(s, settings, actor="mishu1", now=AFTER, approved_on=dt.date(2019, 2, 10),
                                      document_number="韶府函〔2019〕12号", approved=edition[:3])
        assert err.value.code == "approval_bad_date"
        with pytest.raises(InvalidInput) as err:
            approve(s, settings, edition[:3], now=late)
        assert err.value.code == "approval_past_deadline"
        assert publicity.current_approval(s, settings) is None
        publicity.record_approval(s, settings, actor="mishu1", now=late, approved_on=late.date(),
                                  document_number="韶府函〔2019〕12号", approved=edition[:3], accept_late=True)
        assert audit.entries(s, action="approval.record")[0].details["past_deadline"].startswith("2019-03-30")
        assert stages.status(s, settings, "award") == "pending"
        stages.close_stage(s, settings, "award", actor="cli", now=late)
        with pytest.raises(DomainError) as err:
            publicity.announce(s, settings, actor="mishu1", now=late)
        assert err.value.code == "stage_closed"


def test_the_announcement_opens_the_award_stage(settings, sessions, edition):
    from workflows.core import stages
    with sessions.begin() as s:
        publicity.send_report(s, settings, actor="mishu1", now=AFTER)
        approve(s, settings, edition[:3])
        publicity.announce(s, settings, actor="mishu1", now=AFTER)
        assert stages.status(s, settings, "award") == "open"
