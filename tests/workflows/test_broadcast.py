"""Broadcasts: who an audience is, what is queued and recorded, and what is refused (with nothing queued)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflows import broadcast
from workflows.apply.models import Application
from workflows.core.broadcast_models import Broadcast, BroadcastRecipient
from workflows.core.errors import InvalidInput, NotAllowed
from workflows.core.models import AuditEntry, OutboxMessage, Person
from workflows.scoring.draw_models import PanelMember
from workflows.scoring.models import Shortlist

from .publicity_fixtures import START, make_apps, make_roster


def _setup(s, settings):
    ids = make_apps(s, settings, n=4)
    make_roster(s)
    apps = [s.get(Application, i) for i in ids]
    apps[0].region_code, apps[1].region_code = "440205", "440205"       # 曲江区
    apps[0].status, apps[2].status = "supplement", "supplement"
    apps[3].region_code = "440203"
    s.add(Person(userid="tuijian1", name="推荐甲", role="recommender", organization="曲江区市场监管局", region="",
                 updated_at=START))
    s.add(Person(userid="old", name="离任委员", role="committee", organization="", region="", active=False,
                 updated_at=START))
    for pos, (uid, status) in enumerate((("zhuanjia1", "accepted"), ("zhuanjia2", "asked"), ("zhuanjia3", "waiting")), 1):
        s.add(PanelMember(edition=settings.award.edition_key, userid=uid, position=pos, kind="expert", status=status))
    s.add(Shortlist(edition=settings.award.edition_key, kind="vote", application_id=ids[2], position=1, score="900",
                    decided_by="mishu1", decided_at=START))
    s.flush()
    return ids


def _who(s, settings, audience, **kw):
    return [r.userid for r in broadcast.recipients(s, settings, audience, **kw)]


def test_each_audience_names_its_members_once(settings, sessions):
    with sessions.begin() as s:
        _setup(s, settings)
        assert _who(s, settings, "applicants") == ["qiye1", "qiye2", "qiye3", "qiye4"]
        assert _who(s, settings, "applicants", region="440205", status="supplement") == ["qiye1"]
        assert _who(s, settings, "applicants", status="supplement") == ["qiye1", "qiye3"]
        assert _who(s, settings, "finalists") == ["qiye3"]
        assert _who(s, settings, "site") == []
        assert _who(s, settings, "experts") == ["zhuanjia1"]
        assert _who(s, settings, "experts_unpledged") == ["zhuanjia2", "zhuanjia3"]
        assert sorted(_who(s, settings, "committee")) == ["weiyuan1", "weiyuan2", "zhuren"]   # not the one who left
        assert _who(s, settings, "recommenders") == ["tuijian1"]
        labels = [r.label for r in broadcast.recipients(s, settings, "applicants", region="440205")]
        assert labels == ["韶关第1制造有限公司", "韶关第2制造有限公司"]


def test_send_queues_one_notice_each_records_and_audits(settings, sessions):
    with sessions.begin() as s:
        _setup(s, settings)
        row = broadcast.send(s, settings, actor="mishu1", now=START, audience="applicants", region="440205",
                             status="supplement", title="补正提醒", body="请于本周五前补交材料。\n谢谢！")
    with sessions() as s:
        out = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == broadcast.KIND)))
        assert [(o.recipient, o.data["title"], o.data["body"]) for o in out] == [
            ("qiye1", "补正提醒", "请于本周五前补交材料。\n谢谢！")]
        b = s.get(Broadcast, row.id)
        assert (b.audience, b.filters, b.recipients, b.author) == ("applicants", {"region": "440205",
                                                                                   "status": "supplement"}, 1, "mishu1")
        (r,) = s.scalars(select(BroadcastRecipient))
        assert (r.userid, r.label, r.outbox_id) == ("qiye1", "韶关第1制造有限公司", out[0].id)
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "broadcast.send")).one()
        assert entry.actor == "mishu1" and entry.details["recipients"] == 1
        assert [d["delivery"] for d in broadcast.delivery(s, row.id)] == ["queued"]
        out[0].status = "sent"
        s.flush()
        assert [d["delivery"] for d in broadcast.delivery(s, row.id)] == ["sent"]
        assert broadcast.history(s, settings)[0]["sent"] == 1


@pytest.mark.parametrize("kw, code", [
    ({"audience": "everyone"}, "broadcast_bad_audience"),
    ({"region": "999999"}, "broadcast_bad_region"),
    ({"status": "winner"}, "broadcast_bad_status"),
    ({"audience": "experts", "region": "440205"}, "broadcast_filter_not_applicants"),
    ({"title": ""}, "broadcast_bad_text"),
    ({"title": "两\n行"}, "broadcast_bad_text"),
    ({"body": "字" * (broadcast.BODY_MAX + 1)}, "broadcast_bad_text"),
    ({"audience": "site"}, "broadcast_nobody"),
])
def test_bad_input_queues_nothing(settings, sessions, kw, code):
    with sessions.begin() as s:
        _setup(s, settings)
    args = {"audience": "applicants", "title": "通知", "body": "正文", **kw}
    with pytest.raises(InvalidInput) as err, sessions.begin() as s:
        broadcast.send(s, settings, actor="mishu1", now=START, **args)
    assert err.value.code == code
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(func.count()).select_from(Broadcast)) == 0


@pytest.mark.parametrize("actor", ["zhuanjia1", "weiyuan1", "qiye1", "nobody"])
def test_only_the_secretariat_broadcasts(settings, sessions, actor):
    with sessions.begin() as s:
        _setup(s, settings)
    with pytest.raises(NotAllowed), sessions.begin() as s:
        broadcast.send(s, settings, actor=actor, now=START, audience="committee", title="通知", body="正文")
