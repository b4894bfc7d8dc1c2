"""Signing in to the workbench through the WeCom stand-in (both flows), for the /admin tests."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

WECOM_UA = "Mozilla/5.0 (iPhone) AppleWebKit wxwork/4.1.22 MicroMessenger/7.0.1"


def to_wecom(http, *, via: str = "qr", next_path: str = "/admin/", ua: str | None = None):
    """Start signing in; return (the stand-in URL we were sent to, its query)."""
    headers = {"User-Agent": ua} if ua else {}
    if via == "client":   # inside the WeCom client the login page goes straight to OAuth
        r = http.get(f"/admin/login?next={next_path}", headers={"User-Agent": ua or WECOM_UA})
    else:
        r = http.get(f"/admin/login/start?via={via}&next={next_path}", headers=headers)
    assert r.status_code == 302, r.status_code
    location = r.headers["Location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def pick(wecom, location: str, userid: str | None, *, cancel: bool = False):
    """On the stand-in's page, pick who signs in (None: a visitor outside the corp); return the redirect back."""
    fake = wecom.test_client()
    parts = urlsplit(location)
    page = fake.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.data
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    form = {"redirect_uri": query["redirect_uri"], "state": query.get("state", "")}
    if cancel:
        form["cancel"] = "1"
    elif userid is None:
        form["visitor"] = "1"
    else:
        form["userid"] = userid
    back = fake.post("/_sim/signin", data=form)
    assert back.status_code == 302
    return back.headers["Location"]


def back_to(http, url: str):
    """Follow WeCom's redirect to our callback (the test client needs only path and query)."""
    parts = urlsplit(url)
    return http.get(f"{parts.path}?{parts.query}")


def sign_in(http, wecom, userid: str | None, *, via: str = "qr", next_path: str = "/admin/"):
    """The whole round trip; returns the callback's answer."""
    location, _ = to_wecom(http, via=via, next_path=next_path)
    return back_to(http, pick(wecom, location, userid))


def csrf(html: bytes) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(rb'name="csrf" value="([^"]+)"', html).group(1).decode()
