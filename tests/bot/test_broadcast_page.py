"""Broadcasts from the workbench: written, shown to whom it goes, confirmed, queued, delivered, followed per member."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from bot import sample
from tests.bot.admin_helpers import csrf, sign_in
from tests.bot.conftest import deliver, texts
from workflows.apply.models import Application
from workflows.core.broadcast_models import Broadcast
from workflows.core.models import AuditEntry, OutboxMessage

IN_REVIEW = dt.datetime(2018, 11, 20, 2, 0, tzinfo=dt.timezone.utc)


def _setup(rt, clock):
    clock.set(IN_REVIEW)
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "review", clock())
        return [(a.applicant, a.enterprise_name) for a in
                s.scalars(select(Application).where(Application.status == "recommended").order_by(Application.id))]


def _counts(rt):
    with rt.sessions() as s:
        return (s.scalar(select(func.count()).select_from(OutboxMessage)),
                s.scalar(select(func.count()).select_from(Broadcast)))


def test_write_confirm_send_and_follow_delivery(rt, http, wecom, clock):
    waiting = _setup(rt, clock)
    assert len(waiting) >= 2
    deliver(rt)
    sign_in(http, wecom, "mishu")
    page = http.get("/admin/broadcasts")
    assert page.status_code == 200 and "群发通知" in page.get_data(as_text=True)
    form = {"csrf": csrf(page.data), "audience": "applicants", "region": "", "status": "recommended",
            "title": "形式审查进度", "body": "秘书处正在审查贵单位的申报材料，如需补正会另行通知。"}
    before = _counts(rt)
    ask = http.post("/admin/broadcasts", data=form)
    html = ask.get_data(as_text=True)
    assert ask.status_code == 200 and f"确认发送给 {len(waiting)} 人" in html
    assert all(name in html for _, name in waiting)           # the clerk sees every recipient by name
    assert _counts(rt) == before                              # the check was rolled back
    wecom.fail_next("message/send", errcode=81013)            # the first recipient cannot be reached
    done = http.post("/admin/broadcasts", data={**form, "csrf": csrf(ask.data), "confirmed": "1"})
    assert done.status_code == 303
    location = done.headers["Location"]
    assert re.fullmatch(r"/admin/broadcasts/\d+\?done=1", location)
    queued = http.get(location).get_data(as_text=True)
    assert f"排队中 {len(waiting)} 人" in queued
    deliver(rt)
    for userid, _ in waiting[1:]:
        assert any("形式审查进度" in t and "秘书处正在审查" in t for t in texts(wecom, userid))
    after = http.get(location.split("?")[0]).get_data(as_text=True)
    assert f"已送达 {len(waiting) - 1} 人" in after and "失败 1 人" in after
    with rt.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "broadcast.send")).one()
        assert entry.actor == "mishu" and entry.details["recipients"] == len(waiting)
    listing = http.get("/admin/broadcasts").get_data(as_text=True)
    assert "形式审查进度" in listing


def test_bad_form_is_explained_and_sends_nothing(rt, http, wecom, clock):
    _setup(rt, clock)
    sign_in(http, wecom, "mishu")
    page = http.get("/admin/broadcasts")
    before = _counts(rt)
    for bad, says in (({"title": ""}, "通知需要标题和正文"), ({"audience": "site"}, "没有任何收件人"),
                      ({"audience": "experts", "region": "440205"}, "只用于筛选申报企业")):
        form = {"csrf": csrf(page.data), "audience": "applicants", "region": "", "status": "", "title": "通知",
                "body": "正文", **bad}
        for confirmed in ("", "1"):
            r = http.post("/admin/broadcasts", data={**form, "confirmed": confirmed})
            assert r.status_code == 422 and says in r.get_data(as_text=True)
    assert _counts(rt) == before
    forged = http.post("/admin/broadcasts", data={"csrf": "forged", "audience": "committee", "title": "x",
                                                  "body": "y", "confirmed": "1"})
    assert forged.status_code == 403 and _counts(rt) == before


def test_only_the_secretariat_opens_broadcasts(rt, http, wecom, clock):
    _setup(rt, clock)
    with rt.sessions() as s:
        from workflows.core.models import Person
        expert = s.scalars(select(Person.userid).where(Person.role == "expert")).first()
    sign_in(http, wecom, expert)
    assert http.get("/admin/broadcasts").status_code == 403
    assert http.get("/admin/broadcasts/1").status_code == 403
