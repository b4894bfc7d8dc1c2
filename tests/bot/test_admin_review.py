"""The secretariat's formal review in the workbench: the same verbs, confirmations and stage gates as chat."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from bot import sample
from tests.bot.admin_helpers import csrf, sign_in
from tests.bot.conftest import deliver, texts
from workflows.apply.models import Application
from workflows.core import stages
from workflows.core.models import AuditEntry, OutboxMessage
from workflows.review.models import FormalReview, SupplementRequest

# Inside the first edition's formal-review stage (初审, deadline 2018-11-30).
IN_REVIEW = dt.datetime(2018, 11, 20, 2, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def reviewing(rt, clock):
    clock.set(IN_REVIEW)
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "review", clock())
    return rt


def _pending(rt) -> Application:
    with rt.sessions() as s:
        return s.scalars(select(Application).where(Application.status == "recommended").order_by(Application.id)).first()


def _counts(rt) -> tuple[int, int, int]:
    with rt.sessions() as s:
        return (s.scalar(select(func.count()).select_from(AuditEntry)),
                s.scalar(select(func.count()).select_from(OutboxMessage)),
                s.scalar(select(func.count()).select_from(SupplementRequest)))


def _post(http, app_id: int, page_html: bytes, **form):
    return http.post(f"/admin/applications/{app_id}/review", data={"csrf": csrf(page_html), **form})


def test_accept_asks_first_then_runs_the_same_verb_as_chat(reviewing, http, wecom, clock):
    rt = reviewing
    app = _pending(rt)
    sign_in(http, wecom, "mishu")
    page = http.get(f"/admin/applications/{app.id}")
    html = page.get_data(as_text=True)
    assert 'id="do-accept"' in html and 'id="do-reject"' in html and 'id="do-supplement"' in html
    before = _counts(rt)
    ask = _post(http, app.id, page.data, action="accept")
    assert ask.status_code == 200 and "受理后不能撤回" in ask.get_data(as_text=True)
    assert _counts(rt) == before   # the check ran the verb and rolled it back: nothing happened yet
    done = _post(http, app.id, ask.data, action="accept", confirmed="1")
    assert done.status_code == 303 and done.headers["Location"] == f"/admin/applications/{app.id}?done=accept"
    with rt.sessions() as s:
        review = s.scalar(select(FormalReview).where(FormalReview.application_id == app.id))
        assert review.decision == "accepted" and review.decided_by == "mishu"
        assert s.get(Application, app.id).status == "accepted"
    after = http.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="done"' in after and "审查决定" not in after   # nothing is offered any more
    deliver(rt)
    assert any("受理" in t for t in texts(wecom, app.applicant))
    # a second confirmation (another tab, a double click) is refused politely, nothing changes
    again = _post(http, app.id, ask.data, action="accept", confirmed="1")
    assert again.status_code == 409 and "没有执行" in again.get_data(as_text=True)


def test_reject_needs_a_reason_and_shows_it_before_confirming(reviewing, http, wecom):
    rt = reviewing
    app = _pending(rt)
    sign_in(http, wecom, "mishu")
    page = http.get(f"/admin/applications/{app.id}")
    before = _counts(rt)
    empty = _post(http, app.id, page.data, action="reject", reason="  ")
    assert empty.status_code == 409 and _counts(rt) == before
    ask = _post(http, app.id, page.data, action="reject", reason="申报单位  不在本市行政区域内")
    assert "申报单位 不在本市行政区域内" in ask.get_data(as_text=True)
    done = _post(http, app.id, ask.data, action="reject", reason="申报单位  不在本市行政区域内", confirmed="1")
    assert done.status_code == 303
    with rt.sessions() as s:
        assert s.get(Application, app.id).status == "rejected"
    deliver(rt)
    assert any("申报单位 不在本市行政区域内" in t for t in texts(wecom, app.applicant))


def test_supplement_lists_items_reasons_and_the_deadline(reviewing, http, wecom):
    rt = reviewing
    app = _pending(rt)
    sign_in(http, wecom, "mishu")
    page = http.get(f"/admin/applications/{app.id}")
    none = _post(http, app.id, page.data, action="supplement")
    assert none.status_code == 409
    form = {"action": "supplement", "items": ["self_assessment", "certificates"],
            "reason_self_assessment": "自评报告缺少第4.3章", "reason_certificates": "证书已过期"}
    ask = _post(http, app.id, page.data, **form)
    html = ask.get_data(as_text=True)
    assert "自评报告缺少第4.3章" in html and "证书已过期" in html and 'id="confirm-deadline"' in html
    assert _counts(rt)[2] == 0
    hidden = re.findall(r'name="items" value="([^"]+)"', html)
    assert hidden == ["self_assessment", "certificates"]   # the confirmation re-posts exactly what was asked
    done = _post(http, app.id, ask.data, **form, confirmed="1")
    assert done.status_code == 303
    with rt.sessions() as s:
        req = s.scalar(select(SupplementRequest).where(SupplementRequest.application_id == app.id))
        assert {i.item_key for i in req.items} == {"self_assessment", "certificates"}
    page = http.get(f"/admin/applications/{app.id}").get_data(as_text=True)
    assert 'id="supplements"' in page and "证书已过期" in page
    assert 'id="do-accept"' not in page   # accepting waits for the supplement, as in chat
    deliver(rt)
    assert any("证书已过期" in t for t in texts(wecom, app.applicant))


def test_an_authenticity_finding_is_recorded_at_once(reviewing, http, wecom):
    rt = reviewing
    app = _pending(rt)
    sign_in(http, wecom, "mishu")
    page = http.get(f"/admin/applications/{app.id}")
    done = _post(http, app.id, page.data, action="finding", detail="营业执照复印件与原件不符")
    assert done.status_code == 303
    assert "营业执照复印件与原件不符" in http.get(f"/admin/applications/{app.id}").get_data(as_text=True)


def test_nothing_is_offered_or_done_when_the_stage_is_closed(reviewing, http, wecom, clock):
    rt = reviewing
    app = _pending(rt)
    sign_in(http, wecom, "mishu")
    page = http.get(f"/admin/applications/{app.id}")
    with rt.sessions.begin() as s:
        stages.close_stage(s, rt.settings, "review", actor="cli", now=clock())
    fresh = http.get(f"/admin/applications/{app.id}").get_data(as_text=True)
    assert "审查决定" not in fresh
    before = _counts(rt)
    refused = _post(http, app.id, page.data, action="accept", confirmed="1")
    assert refused.status_code == 409 and "申报材料初审" in refused.get_data(as_text=True)
    assert _counts(rt) == before
    with rt.sessions() as s:
        assert s.get(Application, app.id).status == "recommended"


def test_forms_without_the_csrf_token_change_nothing(reviewing, http, wecom, app):
    rt = reviewing
    target = _pending(rt)
    sign_in(http, wecom, "mishu")
    before = _counts(rt)
    for token in (None, "forged-token"):
        data = {"action": "accept", "confirmed": "1"} | ({"csrf": token} if token else {})
        answer = http.post(f"/admin/applications/{target.id}/review", data=data)
        assert answer.status_code == 403 and "页面已过期" in answer.get_data(as_text=True)
    # someone else's valid session token does not work either
    other = app.test_client()
    sign_in(other, wecom, "mishu")
    token = csrf(other.get("/admin/edition").data)
    assert http.post(f"/admin/applications/{target.id}/review",
                     data={"csrf": token, "action": "accept", "confirmed": "1"}).status_code == 403
    assert _counts(rt)[1:] == before[1:]
    with rt.sessions() as s:
        assert s.get(Application, target.id).status == "recommended"


def test_who_owes_what_today_lists_the_open_obligations(rt, http, wecom, clock):
    clock.set(dt.datetime(2018, 12, 10, 2, 0, tzinfo=dt.timezone.utc))   # material review, nothing scored
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "material", clock())
    sign_in(http, wecom, "mishu")
    page = http.get("/admin/edition").get_data(as_text=True)
    owed = page.split('id="owed"')[1].split("</table>")[0]
    assert owed.count("提交评分表") == 6 and "专家·王建国" in owed and "组长·周立平" in owed


def test_the_chair_sees_a_ranking_only_after_the_leader_confirmed_it(rt, app, wecom, clock):
    clock.set(dt.datetime(2018, 12, 10, 2, 0, tzinfo=dt.timezone.utc))
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "material", clock())
    chair, leader = app.test_client(), app.test_client()
    sign_in(chair, wecom, "weiyuan1")
    sign_in(leader, wecom, "zuzhang")
    sealed = chair.get("/admin/ranking").get_data(as_text=True)
    assert 'id="sealed-material"' in sealed and 'id="sealed-site"' in sealed
    forming = leader.get("/admin/ranking").get_data(as_text=True)
    assert 'id="unconfirmed-material"' in forming and 'id="sealed-material"' not in forming
