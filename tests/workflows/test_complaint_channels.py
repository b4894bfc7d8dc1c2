"""Complaints that do not come through the chat (the public page, letters/calls/visits), without Flask."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from workflows import publicity
from workflows.core import access, audit
from workflows.core.errors import InvalidInput, NotAllowed
from workflows.core.models import OutboxMessage
from workflows.publicity import channels
from workflows.publicity.models import Complaint

from .publicity_fixtures import SH, START, make_apps, make_roster, committee_result

CONTENT = "该企业近三年发生过一次重大质量事故，申报材料中未如实说明。"
DAY = dt.timedelta(days=1)


@pytest.fixture
def edition(settings, sessions):
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
    return ids


def test_the_page_files_a_draft_that_lodges_into_the_one_sequence(settings, sessions, edition):
    with sessions.begin() as s:
        draft = channels.file_public(s, settings, actor=access.PUBLIC, now=START, application_id=edition[0],
                                     content=CONTENT, real_name="王小明", phone="139 1234 5678")
        assert (draft.status, draft.channel, draft.complainant, draft.phone) == ("draft", "web", "public", "13912345678")
        c = publicity.lodge(s, settings, draft, now=START)
        assert c.number == "TS2018-001"
        letter = channels.register_offline(s, settings, actor="cli", now=START + DAY, via="letter",
                                           received_on=dt.date(2019, 2, 1), application_id=edition[2],
                                           content=CONTENT, real_name="张三", phone="0751-8888888")
        assert publicity.lodge(s, settings, letter, now=START + DAY).number == "TS2018-002"
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "complaint.received")).all()
        assert [(r.recipient, r.data["complaint"]["channel"]) for r in told] == [("mishu1", "web"), ("mishu1", "letter")]
        entries = [e for e in audit.entries(s) if e.action == "complaint.submit"]
        assert [(e.actor, e.details["channel"]) for e in entries] == [("public", "web"), ("cli", "letter")]


@pytest.mark.parametrize("kwargs,code", [
    ({"application_id": 0}, "complaint_target_not_listed"),
    ({"content": "太短"}, "complaint_bad_content"),
    ({"real_name": "王1"}, "complaint_bad_name"),
    ({"phone": "123"}, "complaint_bad_phone"),
    ({"anonymous": True}, "complaint_real_name_required"),
])
def test_the_page_applies_the_chat_rules(settings, sessions, edition, kwargs, code):
    args = {"application_id": edition[0], "content": CONTENT, "real_name": "王小明", "phone": "13912345678"} | kwargs
    with sessions.begin() as s:
        with pytest.raises(InvalidInput) as err:
            channels.file_public(s, settings, actor=access.PUBLIC, now=START, **args)
        assert err.value.code == code
        assert s.scalars(select(Complaint)).all() == []


def test_anonymous_where_the_edition_allows_it(settings, sessions, edition):
    rules = settings.award.rules.model_copy(update={"anonymous_complaints": True})
    open_settings = settings.model_copy(update={"award": settings.award.model_copy(update={"rules": rules})})
    with sessions.begin() as s:
        c = channels.file_public(s, open_settings, actor=access.PUBLIC, now=START, application_id=edition[0],
                                 content=CONTENT, anonymous=True)
        assert (c.anonymous, c.real_name, c.phone) == (True, None, None)


def test_the_page_is_refused_outside_the_window_and_to_anyone_but_public(settings, sessions, edition):
    with sessions.begin() as s:
        with pytest.raises(InvalidInput) as err:
            channels.file_public(s, settings, actor=access.PUBLIC, now=START + 10 * DAY, application_id=edition[0],
                                 content=CONTENT, real_name="王小明", phone="13912345678")
        assert err.value.code == "complaint_window_closed"
        for actor in ("mishu1", "qiye1", "cli"):
            with pytest.raises(NotAllowed):
                channels.file_public(s, settings, actor=actor, now=START, application_id=edition[0], content=CONTENT)


def test_offline_registration_days_and_deadline(settings, sessions, edition):
    args = {"via": "call", "application_id": edition[0], "content": CONTENT, "real_name": "李雷",
            "phone": "13800138000"}
    after = dt.datetime(2019, 2, 12, 9, 0, tzinfo=SH)
    with sessions.begin() as s:
        for day, now in [(dt.date(2019, 1, 31), START), (dt.date(2019, 2, 11), after),
                         (dt.date(2019, 2, 3), START + DAY)]:  # before, after, in the future
            with pytest.raises(InvalidInput) as err:
                channels.register_offline(s, settings, actor="mishu1", now=now, received_on=day, **args)
            assert err.value.code == "complaint_received_outside"
        with pytest.raises(InvalidInput):
            channels.register_offline(s, settings, actor="mishu1", now=START, received_on=START.date(),
                                      **(args | {"via": "fax"}))
        # A letter of the last day, registered after the window closed, is taken.
        late = channels.register_offline(s, settings, actor="mishu1", now=after, received_on=dt.date(2019, 2, 10),
                                         **args)
        assert late.received_on == "2019-02-10" and late.registered_by == "mishu1"
        with pytest.raises(NotAllowed):
            channels.register_offline(s, settings, actor="qiye1", now=START, received_on=START.date(), **args)
        publicity.require(s, settings).report_sent_at = after
        with pytest.raises(InvalidInput) as err:
            channels.register_offline(s, settings, actor="mishu1", now=after, received_on=dt.date(2019, 2, 9), **args)
        assert err.value.code == "complaint_register_closed"


def test_rate_limits_per_address_and_per_phone(settings, sessions):
    conf = settings.model_copy(update={"complaint_page": settings.complaint_page.model_copy(
        update={"per_ip_per_hour": 2, "per_phone_per_day": 1})})
    with sessions.begin() as s:
        assert channels.rate_limited(s, conf, ip_key="a", phone_key="p", now=START) is None
        channels.record_attempt(s, ip_key="a", phone_key="p", outcome="lodged", now=START, form_nonce="n1")
        assert channels.rate_limited(s, conf, ip_key="b", phone_key="p", now=START) == "phone"
        assert channels.rate_limited(s, conf, ip_key="b", phone_key="q", now=START) is None
        channels.record_attempt(s, ip_key="a", phone_key=None, outcome="refused:challenge_wrong", now=START)
        assert channels.rate_limited(s, conf, ip_key="a", phone_key="q", now=START) == "ip"
        later = START + dt.timedelta(hours=1, seconds=1)
        assert channels.rate_limited(s, conf, ip_key="a", phone_key="q", now=later) is None
        assert channels.rate_limited(s, conf, ip_key="a", phone_key="p", now=later) == "phone"
        assert channels.rate_limited(s, conf, ip_key="a", phone_key="p", now=START + DAY + DAY) is None
        assert channels.lodged_from_form(s, "n1") is None  # no complaint id was given
        assert channels.lodged_from_form(s, "unknown") is None


def test_notice_texts_need_the_secretariats_contact(settings, sessions):
    contact = settings.award.secretariat.model_copy(update={"phone": ""})
    bare = settings.model_copy(update={"award": settings.award.model_copy(update={"secretariat": contact})})
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        with pytest.raises(InvalidInput) as err:
            committee_result(s, settings, ids[:3])
            publicity.start_publicity(s, bare, actor="cli", now=START)
        assert err.value.code == "publicity_contact_missing"
        assert publicity.current(s, settings) is None
