"""Complainants stay with the secretariat: what leaves it (report to the committee, approval package) names nobody."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from workflows import publicity
from workflows.core import conversation
from workflows.core.models import OutboxMessage
from workflows.publicity import secrecy

from .publicity_fixtures import START, committee_result, make_apps, make_roster

NAME, PHONE = "王小明", "13912345678"
# The complainant repeats who he is in his own text, as people do.
CONTENT = "本人王小明（电话 139-1234-5678）反映：该企业近三年发生过一次重大质量事故，申报材料中未如实说明。"
AFTER = START + dt.timedelta(days=11)


def _secrets_in(text: str) -> list[str]:
    return [s for s in (NAME, PHONE, "1234-5678", "1234 5678") if s in text]


def test_outgoing_drops_the_identity_and_masks_it_in_free_text():
    data = {"number": "TS2018-001", "real_name": NAME, "phone": PHONE, "anonymous": False, "channel": "chat",
            "content": CONTENT, "findings": "已电话联系王小明核实", "reason": "经 139 1234 5678 反映属实",
            "evidence": [{"name": "王小明举报信.pdf", "sha256": "ab" * 32, "size": 10}], "upheld": True}
    out = secrecy.outgoing(data)
    assert "real_name" not in out and "phone" not in out
    assert out["evidence"] == [{"sha256": "ab" * 32, "size": 10}]
    assert _secrets_in(json.dumps(out, ensure_ascii=False)) == []
    assert out["content"].startswith("本人＊＊（电话 ＊＊）") and out["reason"] == "经 ＊＊ 反映属实"
    assert out["anonymous"] is False and out["number"] == "TS2018-001" and out["upheld"] is True
    assert data["real_name"] == NAME and data["evidence"][0]["name"] == "王小明举报信.pdf"   # the input is untouched


def test_an_anonymous_complaint_has_nothing_to_mask():
    data = {"real_name": "", "phone": "", "anonymous": True, "content": "电话 13912345678 的人说", "findings": "",
            "reason": "", "evidence": []}
    assert secrecy.outgoing(data)["content"] == "电话 13912345678 的人说"


@pytest.fixture
def concluded(settings, sessions):
    """A notice with one upheld complaint from a named complainant (with evidence), the report sent."""
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
        publicity.begin(s, settings, userid="gongzhong1", now=START)
        conv = conversation.current(s, "gongzhong1")
        publicity.choose_target(s, settings, conv, "2", now=START)
        draft = publicity.set_content(s, settings, conv, CONTENT, now=START)
        publicity.attach_evidence(s, complaint_id=draft.id, sha256="cd" * 32, size=100, kind="pdf",
                                  original_name="王小明的举报材料.pdf", now=START)
        publicity.evidence_done(s, settings, conv, now=START)
        publicity.set_name(s, settings, conv, NAME, now=START)
        c = publicity.submit(s, settings, conv, PHONE, now=START)
        publicity.conclude(s, settings, actor="mishu1", now=START + dt.timedelta(days=1), number=c.number,
                           upheld=True, findings="经核实，王小明反映的事故属实。", reason="隐瞒重大质量事故", outcome="keep")
        publicity.send_report(s, settings, actor="mishu1", now=AFTER)
    return ids


def test_the_report_to_the_committee_and_its_notices_name_nobody(settings, sessions, concluded):
    with sessions() as s:
        report = publicity.verification_report(s, settings, now=AFTER)
        assert report["complaints"][0]["number"] == "TS2018-001" and report["upheld"] == 1
        assert _secrets_in(json.dumps(report, ensure_ascii=False)) == []
        assert "举报材料" not in json.dumps(report, ensure_ascii=False)
        to_committee = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "publicity.report")).all()
        assert {r.recipient for r in to_committee} == {"weiyuan1", "weiyuan2", "zhuren"}
        for row in to_committee:   # what is stored for the committee's messages, not only what is shown
            assert _secrets_in(json.dumps(row.data, ensure_ascii=False)) == []
        # The secretariat still has it: its notice of the new complaint, and the complaint itself.
        received = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "complaint.received")).one()
        assert received.recipient == "mishu1" and received.data["complaint"]["real_name"] == NAME
        c = publicity.find(s, settings, "TS2018-001")
        assert publicity.complaint_data(s, c)["phone"] == PHONE


def test_the_approval_package_names_nobody(settings, sessions, concluded):
    with sessions() as s:
        data = publicity.package_data(s, settings, now=AFTER)
    text = json.dumps(data, ensure_ascii=False)
    assert _secrets_in(text) == [] and "举报材料" not in text and "gongzhong1" not in text
    assert data["publicity"]["counts"] == {"total": 1, "upheld": 1, "not_upheld": 0, "pending": 0, "places_pending": 0}
    assert data["publicity"]["complaints"][0]["findings"] == "经核实，＊＊反映的事故属实。"


@pytest.mark.parametrize("via", ["letter", "call", "visit", "web"])
def test_every_channel_is_kept_secret_the_same_way(settings, sessions, via):
    from workflows.core import access
    from workflows.publicity import channels
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
        if via == "web":
            draft = channels.file_public(s, settings, actor=access.PUBLIC, now=START, application_id=ids[0],
                                         content=CONTENT, real_name=NAME, phone=PHONE)
        else:
            draft = channels.register_offline(s, settings, actor="mishu1", now=START, via=via,
                                              received_on=START.date(), application_id=ids[0], content=CONTENT,
                                              real_name=NAME, phone=PHONE)
        c = publicity.lodge(s, settings, draft, now=START)
        publicity.conclude(s, settings, actor="mishu1", now=START, number=c.number, upheld=False,
                           findings=f"与{NAME}核实", reason="不属实")
        report = publicity.send_report(s, settings, actor="mishu1", now=AFTER)
        package = publicity.package_data(s, settings, now=AFTER)
    assert report["complaints"][0]["channel"] == via and package["publicity"]["complaints"][0]["channel"] == via
    assert _secrets_in(json.dumps([report, package], ensure_ascii=False)) == []
