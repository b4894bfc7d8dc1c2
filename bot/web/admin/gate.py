"""The workbench's blueprint and its one gate: signed in, allowed to see the page (VIEWS), CSRF on every form."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Blueprint, Response, g, redirect, request

from workflows.core import access, audit, pledges

from . import auth
from .render import headers, page, rt

STATIC = Path(__file__).resolve().parent / "static"
bp = Blueprint("admin", __name__, url_prefix="/admin", static_folder=str(STATIC), static_url_path="/static")

# The workbench's sections in menu order: (section, the VIEWS entry that opens it, path).
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("edition", "edition.overview", "/admin/edition"),
    ("applications", "applications.view", "/admin/applications"),
    ("experts", "assignments.view", "/admin/experts"),
    ("scores", "scores.view", "/admin/scores"),
    ("ranking", "ranking.view", "/admin/ranking"),
    ("vote", "vote.status", "/admin/vote"),
    ("publicity", "publicity.view", "/admin/publicity"),
    ("broadcasts", "broadcasts.view", "/admin/broadcasts"),
    ("audit", "audit.view", "/admin/audit"),
    ("exports", "exports.download", "/admin/exports"),
)

# Where each role starts: its main page (the leader scores, the chair watches the vote, an expert his applications).
HOME = ("edition", "scores", "vote", "applications", "experts", "ranking", "publicity", "broadcasts", "audit", "exports")


def nav_for(role: str) -> list[tuple[str, str]]:
    """(section, path) of every section this role may open."""
    return [(name, path) for name, view, path in SECTIONS if access.may_see(role, view)]


def _to_login(reason: str) -> Response:
    target = request.full_path.rstrip("?") if request.method == "GET" else "/admin/"
    return headers(redirect("/admin/login?" + urlencode({"next": target, "reason": reason}), code=303))


def view(section: str, name: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Decorate a page: sign-in required, the VIEWS entry `name` checked, CSRF checked on POST."""
    if name not in access.WORKBENCH_VIEWS:  # a typo fails at import, not at the first request
        raise KeyError(f"{name!r} is not a workbench view (access.WORKBENCH_VIEWS)")

    def decorate(fn: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Response:
            member, why = auth.current()
            if member is None:
                return _to_login(why)
            g.admin_member, g.admin_nav, g.admin_section = member, nav_for(member.role), section
            if not access.may_see(member.role, name):
                with rt().sessions.begin() as s:
                    audit.record(s, actor=member.userid, action="access.refused", subject="admin", now=auth.now(),
                                 view=name, role=member.role, path=request.path[:200])
                return auth.touch(page("forbidden", 403))
            with rt().sessions() as s:   # §五(三): nothing is shown before the confidentiality pledge
                unsigned = pledges.unsigned(s, rt().settings, member.userid, member.role)
            if unsigned:
                return auth.touch(page("refused", 403, kind="pledge"))
            if request.method == "POST" and not auth.csrf_ok(member):
                return auth.touch(page("refused", 403, kind="csrf"))
            return auth.touch(fn(member, *args, **kwargs))
        return wrapped
    return decorate


@bp.get("/login")
def login() -> Response:
    """The sign-in page (inside the WeCom client: straight to OAuth)."""
    return auth.login_page()


@bp.get("/login/start")
def login_start() -> Response:
    """Go to WeCom: OAuth (`via=oauth`, inside the client) or the web login with a QR code (desktop)."""
    return headers(auth.start(request.args.get("via", "qr"), request.args.get("next", "")))


@bp.get("/auth/callback")
def login_callback() -> Response:
    """WeCom sends the member back here with `code` and `state`."""
    return headers(auth.callback())


@bp.post("/logout")
def logout() -> Response:
    """Sign out (a form with the CSRF token)."""
    member, _ = auth.current()
    if member is None:
        return _to_login("signed_out")
    if not auth.csrf_ok(member):
        g.admin_member, g.admin_nav = member, nav_for(member.role)
        return auth.touch(page("refused", 403, kind="csrf"))
    return headers(auth.logout(member))


@bp.get("/")
def home() -> Response:
    """The first section the member may open."""
    member, why = auth.current()
    if member is None:
        return _to_login(why)
    sections = dict(nav_for(member.role))
    if not sections:
        g.admin_member = member
        return page("forbidden", 403)
    first = next(name for name in HOME if name in sections)
    return auth.touch(headers(redirect(sections[first], code=302)))
