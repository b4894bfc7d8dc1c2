"""Signing in to the workbench with WeCom: OAuth in the client, web login on a desktop, through the stand-in.

No passwords: the member is whoever `auth/getuserinfo` names, and only roster members get in.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.sample import ensure_roster
from tests.bot.admin_helpers import back_to, csrf, pick, sign_in, to_wecom
from workflows.core.models import AuditEntry, Person


@pytest.fixture
def roster(rt):
    with rt.sessions.begin() as s:
        ensure_roster(s, rt.clock())
    return rt


def _cookies(resp) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in resp.headers.getlist("Set-Cookie")}


def _audit(rt, action: str) -> list[AuditEntry]:
    with rt.sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_desktop_web_login_signs_the_secretariat_in(roster, http, wecom, rt):
    location, query = to_wecom(http, via="qr", next_path="/admin/applications")
    assert location.startswith(wecom.url + "/wwlogin/sso/login?")
    assert query["login_type"] == "CorpApp" and query["appid"] == rt.settings.wecom.corp_id
    assert query["agentid"] == str(rt.settings.wecom.agent_id)
    assert query["redirect_uri"] == rt.settings.server.public_url + "/admin/auth/callback"
    assert len(query["state"]) == 32 and query["state"].isalnum()
    back = back_to(http, pick(wecom, location, "mishu"))
    assert back.status_code == 302 and back.headers["Location"] == "/admin/applications"
    cookie = _cookies(back)["awardbot_admin"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # public_url is http here
    page = http.get("/admin/edition")
    assert page.status_code == 200 and "秘书处·李敏" in page.get_data(as_text=True)
    assert [e.actor for e in _audit(rt, "admin.signin")] == ["mishu"]
    assert len(wecom.calls_to("auth/getuserinfo")) == 1


def test_inside_the_wecom_client_oauth_needs_no_click(roster, http, wecom, rt):
    location, query = to_wecom(http, via="client")
    assert location.startswith(wecom.url + "/connect/oauth2/authorize?") and location.endswith("#wechat_redirect")
    assert query["response_type"] == "code" and query["scope"] == "snsapi_base"
    assert query["appid"] == rt.settings.wecom.corp_id and query["agentid"] == str(rt.settings.wecom.agent_id)
    back = back_to(http, pick(wecom, location.split("#")[0], "zuzhang"))
    assert back.headers["Location"] == "/admin/"
    home = http.get("/admin/")
    assert home.status_code == 302 and home.headers["Location"] == "/admin/scores"  # the leader's first page


def test_a_desktop_browser_gets_the_sign_in_page_first(roster, http):
    page = http.get("/admin/edition")
    assert page.status_code == 303 and page.headers["Location"].startswith("/admin/login?")
    login = http.get(page.headers["Location"])
    text = login.get_data(as_text=True)
    assert login.status_code == 200 and "企业微信扫码登录" in text and "密码" not in text.replace("无需密码", "")
    assert login.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_state_is_checked(roster, http, wecom, app):
    location, query = to_wecom(http)
    url = pick(wecom, location, "mishu")
    forged = url.replace(query["state"], "0" * 32)
    refused = back_to(http, forged)
    assert refused.status_code == 400 and "登录请求无效" in refused.get_data(as_text=True)
    assert "awardbot_admin=" not in " ".join(refused.headers.getlist("Set-Cookie")).replace("awardbot_admin_state", "")
    # the same (valid) answer in a browser that never started signing in: no state cookie
    other = app.test_client()
    assert back_to(other, url).status_code == 400
    assert other.get("/admin/edition").status_code == 303


def test_a_code_works_once(roster, http, wecom, app):
    location, _ = to_wecom(http)
    url = pick(wecom, location, "mishu")
    assert back_to(http, url).status_code == 302
    again = app.test_client()
    location2, query2 = to_wecom(again)
    reused = url.split("state=")[0] + "state=" + query2["state"]
    answer = back_to(again, reused)
    assert answer.status_code == 400 and "登录凭证已失效" in answer.get_data(as_text=True)


@pytest.mark.parametrize("who,kind,text", [
    (None, "not_member", "仅对企业成员开放"),
    ("qiye-stranger", "not_on_roster", "没有工作台的使用权限"),
    ("tuijian-wj", "no_pages", "没有可查看的页面"),
    ("weiyuan2", "no_pages", "没有可查看的页面"),   # a committee member (not the chair)
])
def test_members_without_pages_get_a_polite_refusal(roster, http, wecom, rt, who, kind, text):
    answer = sign_in(http, wecom, who)
    assert answer.status_code == 403 and text in answer.get_data(as_text=True)
    assert http.get("/admin/edition").status_code == 303
    refused = _audit(rt, "admin.signin_refused")
    assert [e.details["reason"] for e in refused] == [kind]


def test_a_deactivated_member_is_refused(roster, http, wecom, rt):
    with rt.sessions.begin() as s:
        s.get(Person, "mishu").active = False
    answer = sign_in(http, wecom, "mishu")
    assert answer.status_code == 403 and "已从名单中移除" in answer.get_data(as_text=True)


def test_cancelled_sign_in(roster, http, wecom):
    location, _ = to_wecom(http)
    answer = back_to(http, pick(wecom, location, None, cancel=True))
    assert answer.status_code == 400 and "登录已取消" in answer.get_data(as_text=True)


def test_wecom_unreachable_during_sign_in(roster, http, wecom):
    location, _ = to_wecom(http)
    url = pick(wecom, location, "mishu")
    wecom.fail_next("auth/getuserinfo", http_status=500)
    answer = back_to(http, url)
    assert answer.status_code == 502 and "暂时无法连接企业微信" in answer.get_data(as_text=True)


def test_the_session_ends_after_idle_minutes(roster, http, wecom, rt):
    sign_in(http, wecom, "mishu")
    for _ in range(3):   # a click every 20 minutes keeps the session going past 30 minutes
        rt.clock.advance(minutes=20)
        assert http.get("/admin/edition").status_code == 200
    rt.clock.advance(minutes=31)
    answer = http.get("/admin/edition")
    assert answer.status_code == 303 and "reason=expired" in answer.headers["Location"]
    assert "自动退出" in http.get(answer.headers["Location"]).get_data(as_text=True)


def test_the_session_ends_after_max_hours_however_active(roster, http, wecom, rt):
    sign_in(http, wecom, "mishu")
    for _ in range(12 * 3 - 1):
        rt.clock.advance(minutes=20)
        assert http.get("/admin/exports").status_code == 200
    rt.clock.advance(minutes=21)
    assert "reason=expired" in http.get("/admin/exports").headers["Location"]


def test_removed_from_the_roster_loses_the_workbench_at_the_next_click(roster, http, wecom, rt):
    sign_in(http, wecom, "mishu")
    assert http.get("/admin/edition").status_code == 200
    with rt.sessions.begin() as s:
        s.get(Person, "mishu").active = False
    answer = http.get("/admin/edition")
    assert answer.status_code == 303 and "reason=removed" in answer.headers["Location"]


def test_a_role_change_takes_effect_at_the_next_click(roster, http, wecom, rt):
    sign_in(http, wecom, "mishu")
    with rt.sessions.begin() as s:
        s.get(Person, "mishu").role = "expert"
    assert http.get("/admin/edition").status_code == 403
    assert [e.details["view"] for e in _audit(rt, "access.refused")] == ["edition.overview"]


def test_logout_needs_the_csrf_token(roster, http, wecom, rt):
    sign_in(http, wecom, "mishu")
    page = http.get("/admin/edition")
    assert http.post("/admin/logout").status_code == 403
    assert http.post("/admin/logout", data={"csrf": "x" * 32}).status_code == 403
    assert http.get("/admin/edition").status_code == 200   # still signed in
    out = http.post("/admin/logout", data={"csrf": csrf(page.data)})
    assert out.status_code == 303 and "reason=signed_out" in out.headers["Location"]
    assert http.get("/admin/edition").status_code == 303
    assert [e.actor for e in _audit(rt, "admin.signout")] == ["mishu"]


def test_a_tampered_cookie_is_no_session(roster, http, wecom):
    sign_in(http, wecom, "mishu")
    cookie = http.get_cookie("awardbot_admin", path="/admin")
    http.set_cookie("awardbot_admin", cookie.value.replace("mishu", "zuzha")[:-2] + "AA", path="/admin")
    assert http.get("/admin/edition").status_code == 303


def test_only_our_own_pages_after_sign_in(roster, http, wecom):
    for target in ("//evil.example/admin/", "https://evil.example/", "/admin\\..\\x", "/upload/x"):
        answer = sign_in(http, wecom, "mishu", next_path=target)
        assert answer.headers["Location"] == "/admin/"


def test_cookies_are_secure_when_the_public_url_is_https(settings, wecom, engine, clock):
    from bot.app import create_app
    from bot.runtime import build_runtime
    secure = settings.with_overrides(wecom={"api_base_url": wecom.url, "login_base_url": wecom.url},
                                     server={"public_url": "https://award.example.gov.cn"})
    runtime = build_runtime(secure, clock=clock, engine=engine)
    with runtime.sessions.begin() as s:
        ensure_roster(s, clock())
    client = create_app(runtime).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"   # the browser talks to the https address
    start = client.get("/admin/login/start?via=qr")
    assert "Secure" in _cookies(start)["awardbot_admin_state"]
    location = start.headers["Location"]
    assert "redirect_uri=https%3A%2F%2Faward.example.gov.cn%2Fadmin%2Fauth%2Fcallback" in location
    back = back_to(client, pick(wecom, location, "mishu"))
    assert back.status_code == 302, back.get_data(as_text=True)
    assert "Secure" in _cookies(back)["awardbot_admin"]


def test_no_audit_noise_from_plain_page_views(roster, http, wecom, rt):
    sign_in(http, wecom, "mishu")
    with rt.sessions() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    for path in ("/admin/edition", "/admin/applications", "/admin/audit"):
        assert http.get(path).status_code == 200
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
