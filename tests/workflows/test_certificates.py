"""The winners' 证书: only after the announcement, one numbered certificate per winner, never renumbered."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from workflows import publicity
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from workflows.core.models import AuditEntry
from workflows.publicity.models import Certificate

from .publicity_fixtures import START, committee_result, make_apps, make_roster

AFTER = START + dt.timedelta(days=11)


@pytest.fixture
def approved(settings, sessions):
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
        publicity.send_report(s, settings, actor="mishu1", now=AFTER)
        publicity.record_approval(s, settings, actor="mishu1", now=AFTER, approved_on=AFTER.date(),
                                  document_number="韶府函〔2019〕12号", approved=[ids[1], ids[0], ids[2]])
    return ids


def test_no_certificate_before_the_announcement(settings, sessions, approved):
    with pytest.raises(InvalidInput) as err, sessions.begin() as s:
        publicity.certificates.issue(s, settings, actor="mishu1", now=AFTER)
    assert err.value.code == "certificate_before_announcement"
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 0


def test_one_numbered_certificate_per_winner_in_the_approval_order(settings, sessions, approved):
    with sessions.begin() as s:
        publicity.announce(s, settings, actor="mishu1", now=AFTER)
    later = AFTER + dt.timedelta(days=3)
    with sessions.begin() as s:
        new = publicity.certificates.issue(s, settings, actor="mishu1", now=later)
        assert [(c.application_id, c.number) for c in new] == [
            (approved[1], "ZS2018-001"), (approved[0], "ZS2018-002"), (approved[2], "ZS2018-003")]
        assert {c.issued_on for c in new} == {later.astimezone(settings.award.tz).date().isoformat()}
    with pytest.raises(AlreadyDone), sessions.begin() as s:       # never renumbered
        publicity.certificates.issue(s, settings, actor="mishu1", now=later)
    with sessions() as s:
        assert [c.number for c in publicity.certificates.issued(s, settings)] == [
            "ZS2018-001", "ZS2018-002", "ZS2018-003"]
        by_app = publicity.certificates.data(s, settings, "SG2018-001")   # the winner's application number
        assert (by_app["number"], by_app["winner"]["name"]) == ("ZS2018-002", "韶关第1制造有限公司")
        assert by_app["document_number"] == "韶府函〔2019〕12号"
        assert publicity.certificates.data(s, settings, "ZS2018-003")["winner"]["number"] == "SG2018-003"
        with pytest.raises(NotFound):
            publicity.certificates.data(s, settings, "SG2018-004")        # reserve, not a winner
        audits = s.scalars(select(AuditEntry).where(AuditEntry.action == "award.certificate")).all()
        assert sorted(a.details["number"] for a in audits) == ["ZS2018-001", "ZS2018-002", "ZS2018-003"]


def test_only_the_secretariat_issues(settings, sessions, approved):
    with sessions.begin() as s:
        publicity.announce(s, settings, actor="mishu1", now=AFTER)
    with pytest.raises(NotAllowed), sessions.begin() as s:
        publicity.certificates.issue(s, settings, actor="zhuren", now=AFTER)


def test_the_certificate_prefix_must_differ_from_the_others(settings):
    with pytest.raises(Exception, match="must differ"):
        settings.with_overrides(award={"application": {"number_prefix": "SG2018", "complaint_prefix": "TS2018",
                                                       "certificate_prefix": "sg2018"}})
