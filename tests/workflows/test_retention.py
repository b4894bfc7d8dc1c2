"""Personal data has an end (issue 22.5): a finished, archived edition's personal data is purged after the
retention period, refused before, audited, and the record (decisions, audit chain, files) is kept."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from workflows import archive, publicity, retention
from workflows.apply.models import Application
from workflows.core import audit, stages
from workflows.core.errors import InvalidInput, NotAllowed, NotFound
from workflows.core.models import AuditEntry, Conversation, InboundCallback, OutboxMessage
from workflows.publicity.models import Complaint, ComplaintAttempt, ComplaintEvidence

from .publicity_fixtures import START, committee_result, make_apps, make_roster

END = START + dt.timedelta(days=40)          # every stage closed
ARCHIVED = END + dt.timedelta(days=1)
LATER = ARCHIVED + dt.timedelta(days=180)    # [retention] purge_after_days (the example's 180)


def _callback(s, key, status, at, text="我叫张三，电话 13800138000"):
    s.add(InboundCallback(dedupe_key=key, userid="u1", kind="text", payload={"Content": text}, received_at=at,
                          status=status, error="ValueError: 张三" if status == "error" else None))


def _outbox(s, status, at):
    s.add(OutboxMessage(recipient="u1", kind="complaint.received", data={"name": "张三"},
                        payload={"body": {"text": "张三 13800138000"}}, action="send", status=status, attempts=1,
                        next_attempt_at=at, created_at=at, body_key="ab" * 32))


def fill(s, settings) -> None:
    """An edition with a complaint (name, phone), a draft, callbacks and outbox rows; every stage closed at END."""
    ids = make_apps(s, settings)
    make_roster(s)
    committee_result(s, settings, ids[:3], ids[3:])
    pub = publicity.start_publicity(s, settings, actor="mishu1", now=START)
    s.add(Complaint(edition=settings.award.edition_key, number="TS2018-001", publicity_id=pub.id,
                    application_id=ids[0], complainant="u1", content="张三投诉：材料不实。", real_name="张三",
                    phone="13800138000", status="concluded", created_at=START, submitted_at=START,
                    findings="经核查不属实", upheld=False, reason="证据不足"))
    s.add(Complaint(edition=settings.award.edition_key, publicity_id=pub.id, application_id=ids[1],
                    complainant="u2", content="草稿：李四的电话 13900139000", status="draft", created_at=START))
    s.flush()
    lodged = s.scalar(select(Complaint.id).where(Complaint.number == "TS2018-001"))
    s.add(ComplaintEvidence(complaint_id=lodged, sha256="e" * 64, size=3, kind="pdf", original_name="张三的证据.pdf",
                            received_at=START))
    s.add(ComplaintAttempt(at=START, ip_key="i" * 64, phone_key="p" * 64, outcome="lodged"))
    s.add(Conversation(userid="u1", flow="complaint", step="content", data={"draft": "张三"}, updated_at=START))
    _callback(s, "old-done", "done", START)
    _callback(s, "old-error", "error", START)
    _callback(s, "old-pending", "pending", START)
    _callback(s, "after-end", "done", END + dt.timedelta(days=2))
    _outbox(s, "sent", START)
    _outbox(s, "dead", START)
    _outbox(s, "pending", START)
    for stage in settings.award.stages:
        stages.close_stage(s, settings, stage.key, actor="cli", now=END)


@pytest.fixture
def edition(settings, sessions, tmp_path):
    with sessions.begin() as s:
        fill(s, settings)
    return tmp_path


def _archive(settings, sessions, tmp_path, when=ARCHIVED):
    with sessions.begin() as s:
        archive.export(s, settings, actor="cli", now=when, out=Path(tmp_path) / "a.zip")


def _purge(settings, sessions, now=LATER, actor="cli"):
    with sessions.begin() as s:
        return retention.purge(s, settings, actor=actor, now=now, edition=settings.award.edition_key)


def test_a_finished_archived_edition_is_purged_after_the_retention_period(settings, sessions, edition):
    _archive(settings, sessions, edition)
    plan = _purge(settings, sessions)
    assert plan.finished_at == END and plan.archived_at == ARCHIVED
    assert plan.counts["complainants"] == 2 and plan.counts["callbacks"] == 2 and plan.counts["outbox"] == 2
    with sessions() as s:
        c = s.scalar(select(Complaint).where(Complaint.number == "TS2018-001"))
        assert (c.real_name, c.phone, c.complainant) == (None, None, "purged")
        assert (c.content, c.findings, c.reason, c.upheld) == ("张三投诉：材料不实。", "经核查不属实", "证据不足", False)
        draft = s.scalar(select(Complaint).where(Complaint.status == "draft"))
        assert draft.content == "" and draft.complainant == "purged"
        cbs = {r.dedupe_key: r for r in s.scalars(select(InboundCallback))}
        assert cbs["old-done"].payload == {"purged": True} and cbs["old-error"].error is None
        assert cbs["old-pending"].payload["Content"] and cbs["after-end"].payload["Content"]   # not finished / later
        rows = {r.status: r for r in s.scalars(select(OutboxMessage))}
        assert rows["sent"].data == rows["sent"].payload == {"purged": True} and rows["sent"].body_key is None
        assert rows["dead"].payload == {"purged": True} and rows["pending"].data == {"name": "张三"}
        assert s.scalar(select(func.count()).select_from(ComplaintAttempt)) == 0
        assert [(e.original_name, e.sha256) for e in s.scalars(select(ComplaintEvidence))] == [("", "e" * 64)]
        assert s.scalar(select(func.count()).select_from(Conversation)) == 0
        assert {(a.contact_name, a.contact_phone) for a in s.scalars(select(Application))} == {(None, None)}
        [entry] = audit.entries(s, action="edition.purge")
        assert entry.actor == "cli" and entry.details["complainants"] == 2
        assert archive.verify_audit(s).ok                                   # the record's chain is intact
    again = _purge(settings, sessions, now=LATER + dt.timedelta(days=1))     # idempotent
    assert again.counts["complainants"] == 0 and again.counts["contacts"] == 0


def _state(sessions):
    with sessions() as s:
        return ([(c.real_name, c.phone, c.complainant) for c in s.scalars(select(Complaint).order_by(Complaint.id))],
                [r.payload for r in s.scalars(select(InboundCallback).order_by(InboundCallback.id))],
                s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "edition.purge")))


def test_an_unfinished_edition_is_refused_and_nothing_changes(settings, sessions, edition):
    with sessions.begin() as s:
        stages.open_stage(s, settings, "award", actor="cli", now=END + dt.timedelta(hours=1))
    _archive(settings, sessions, edition)
    before = _state(sessions)
    with pytest.raises(InvalidInput) as exc:
        _purge(settings, sessions)
    assert exc.value.code == "retention_not_finished" and _state(sessions) == before


def test_an_edition_not_archived_after_its_end_is_refused(settings, sessions, edition):
    _archive(settings, sessions, edition, when=END - dt.timedelta(days=1))   # archived before the last close
    before = _state(sessions)
    with pytest.raises(InvalidInput) as exc:
        _purge(settings, sessions)
    assert exc.value.code == "retention_not_archived" and _state(sessions) == before


def test_the_retention_period_runs_from_the_archive(settings, sessions, edition):
    _archive(settings, sessions, edition)
    with pytest.raises(InvalidInput) as exc:
        _purge(settings, sessions, now=LATER - dt.timedelta(minutes=1))
    assert exc.value.code == "retention_too_early" and exc.value.data["days"] == 180
    shorter = settings.with_overrides(retention={"purge_after_days": 30})
    assert _purge(shorter, sessions, now=ARCHIVED + dt.timedelta(days=30)).counts["complainants"] == 2


def test_only_the_operator_purges_and_an_unknown_edition_is_not_found(settings, sessions, edition):
    _archive(settings, sessions, edition)
    with pytest.raises(NotAllowed):
        _purge(settings, sessions, actor="mishu1")
    with sessions.begin() as s, pytest.raises(NotFound):
        retention.purge(s, settings, actor="cli", now=LATER, edition="no-such-edition")
