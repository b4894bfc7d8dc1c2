"""The approval package's data on empty and partial editions: it says what is missing, never claims a result.

The full sample edition (real scores, vote and notice) is in tests/bot/test_approval_package.py.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from workflows import publicity
from workflows.apply.models import Application, AppStatus
from workflows.core import conversation
from workflows.core.errors import InvalidInput, NotAllowed
from workflows.core.models import AuditEntry

from .publicity_fixtures import START, committee_result, make_apps, make_roster


def test_an_edition_without_a_submitted_application_has_no_package(settings, sessions):
    with sessions.begin() as s:
        with pytest.raises(InvalidInput) as err:
            publicity.package_data(s, settings, now=START)
        assert err.value.code == "package_nothing_yet"
        ids = make_apps(s, settings, n=2)
        s.get(Application, ids[0]).status = AppStatus.DRAFT
        s.get(Application, ids[1]).status = AppStatus.INELIGIBLE
        with pytest.raises(InvalidInput):
            publicity.package_data(s, settings, now=START)
        assert publicity.applications_received(s, settings) == 0


def test_application_counts_follow_each_status(settings, sessions):
    statuses = [AppStatus.DRAFT, AppStatus.SUBMITTED, AppStatus.RETURNED, AppStatus.NOT_RECOMMENDED,
                AppStatus.RECOMMENDED, AppStatus.SUPPLEMENT, AppStatus.ACCEPTED, AppStatus.ACCEPTED,
                AppStatus.REJECTED]
    with sessions.begin() as s:
        for app_id, status in zip(make_apps(s, settings, n=len(statuses)), statuses):
            s.get(Application, app_id).status = status
        data = publicity.package_data(s, settings, now=START)
    assert data["applications"] == {"received": 8, "recommended": 5, "not_recommended": 1, "accepted": 2,
                                    "rejected": 1, "undecided": 4}
    assert data["complete"] is False and data["proposed"] == [] and data["vote"] is None
    assert data["gaps"] == ["material_not_final", "site_not_final", "vote_not_decided", "publicity_not_started"]
    assert data["ranking"]["material"] == [] and data["publicity"] is None and data["approval"] is None


def test_an_open_notice_with_a_pending_complaint_is_not_a_result(settings, sessions):
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
        publicity.begin(s, settings, userid="gongzhong1", now=START)
        conv = conversation.current(s, "gongzhong1")
        publicity.choose_target(s, settings, conv, "1", now=START)
        publicity.set_content(s, settings, conv, "该企业申报材料中的认证证书已过期，请核查。", now=START)
        publicity.evidence_done(s, settings, conv, now=START)
        publicity.set_name(s, settings, conv, "王小明", now=START)
        publicity.submit(s, settings, conv, "13912345678", now=START)
        data = publicity.package_data(s, settings, now=START + dt.timedelta(days=2))
    assert {"publicity_open", "complaints_pending", "report_not_sent"} <= set(data["gaps"])
    assert data["publicity"]["state"] == "open" and data["publicity"]["counts"]["pending"] == 1
    assert data["proposed"] == [] and data["complete"] is False
    assert [w["number"] for w in data["publicity"]["winners"]] == ["SG2018-001", "SG2018-002", "SG2018-003"]
    assert set(data["publicity"]["winners"][0]) == {"number", "name"}   # no member ids, no contacts


def test_the_package_is_attached_only_to_a_recorded_approval_by_the_secretariat(settings, sessions):
    with sessions.begin() as s:
        make_apps(s, settings)
        make_roster(s)
        data = publicity.package_data(s, settings, now=START)
        with pytest.raises(InvalidInput) as err:
            publicity.attach_package(s, settings, actor="mishu1", now=START, data=data, files={})
        assert err.value.code == "award_not_approved"
        with pytest.raises(NotAllowed):
            publicity.attach_package(s, settings, actor="weiyuan1", now=START, data=data, files={})
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "approval.package")).all() == []


def test_the_digest_ignores_when_it_was_made_but_not_what_it_says(settings, sessions):
    with sessions.begin() as s:
        make_apps(s, settings)
        first = publicity.package_data(s, settings, now=START)
        later = publicity.package_data(s, settings, now=START + dt.timedelta(hours=1))
        assert first["digest"] == later["digest"]
        s.get(Application, 1).status = AppStatus.REJECTED
        assert publicity.package_data(s, settings, now=START)["digest"] != first["digest"]


def test_a_removed_winner_waits_for_the_committee_then_shows_its_decision(settings, sessions):
    from workflows.publicity import places
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
        publicity.begin(s, settings, userid="gongzhong1", now=START)
        conv = conversation.current(s, "gongzhong1")
        publicity.choose_target(s, settings, conv, "2", now=START)
        publicity.set_content(s, settings, conv, "该企业申报材料中的认证证书系伪造，请核查。", now=START)
        publicity.evidence_done(s, settings, conv, now=START)
        publicity.set_name(s, settings, conv, "王小明", now=START)
        c = publicity.submit(s, settings, conv, "13912345678", now=START)
        publicity.conclude(s, settings, actor="mishu1", now=START + dt.timedelta(days=1), number=c.number,
                           upheld=True, findings="发证机构复函：证书编号不存在。", reason="证书系伪造", outcome="remove")
        after = START + dt.timedelta(days=11)
        waiting = publicity.package_data(s, settings, now=after)
        assert "places_pending" in waiting["gaps"] and waiting["publicity"]["counts"]["places_pending"] == 1
        assert waiting["publicity"]["complaints"][0]["place"]["status"] == "pending"
        assert waiting["proposed"] == []
        places.decide(s, settings, actor="zhuren", now=after, complaint_number=c.number, decision="replace",
                      reason="按综合排名由下一名递补")
        decided = publicity.package_data(s, settings, now=after + dt.timedelta(days=1))
        assert "places_pending" not in decided["gaps"] and "replacement_notice_open" in decided["gaps"]
        place = decided["publicity"]["complaints"][0]["place"]
        assert place["status"] == "replace" and place["replacement"] == {"number": "SG2018-004",
                                                                         "name": "韶关第4制造有限公司"}
        assert place["removed"]["number"] == "SG2018-002" and "zhuren" not in str(decided)


def test_a_small_field_shows_each_confirmation_yes_and_no(settings, sessions):
    from workflows.voting.models import Ballot
    with sessions.begin() as s:
        ids = make_apps(s, settings, n=2)
        counts = {f"app-{ids[0]}": 6, f"no-{ids[0]}": 1, f"app-{ids[1]}": 2, f"no-{ids[1]}": 5}
        ballot = Ballot(edition=settings.award.edition_key, seats=3,
                        candidates=[{"application_id": a, "enterprise_name": f"#{a}", "composite": None,
                                     "material": None, "site": None} for a in ids],
                        status="closed", outcome="decided", opened_by="mishu1", opened_at=START,
                        closes_at=START, closed_at=START, closed_by="mishu1",
                        result={"counts": counts, "ranking": [[k, v] for k, v in counts.items()],
                                "winners": [f"app-{ids[0]}"], "runoff": None, "decided": True, "seats": 3,
                                "ballots": 7, "members": 7, "voted": 7, "quorum": "2/3", "quorum_met": True})
        s.add(ballot)
        s.flush()
        ballot.series_id = ballot.id
        s.flush()
        [r] = publicity.package_data(s, settings, now=START)["vote"]["rounds"]
    assert r["confirm"] is True and r["counted"] is True
    assert [(c["number"], c["votes"], c["against"], c["confirmed"]) for c in r["candidates"]] == [
        ("SG2018-001", 6, 1, True), ("SG2018-002", 2, 5, False)]
