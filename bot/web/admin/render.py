"""Rendering the workbench's pages (templates/pages/admin/, autoescaped) with their security headers."""
from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, g
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workflows.scoring import results

from ...render import TEMPLATES
from . import charts, names

# Our own pages only: no inline script or style, frames only from ourselves (document previews).
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-src 'self'; "
       "object-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def rt():  # noqa: ANN201
    """The runtime of the running app."""
    return current_app.extensions["awardbot"]


def env() -> Environment:
    """The admin pages' Jinja environment, one per runtime (its globals come from the runtime's renderer)."""
    runtime = rt()
    found = runtime.services.get("admin_pages_env")
    if found is None:
        found = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                            autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
        # Times and days as a clerk writes them ("2019年3月10日 10:00", "2019年3月5日"), in the award's time zone.
        found.filters["local"] = lambda v, seconds=False: names.clerk_time(runtime.renderer.local_time(
            v, "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"))
        found.filters["day"] = names.clerk_day
        found.filters["kb"] = lambda n: f"{(n or 0) / 1024:,.1f} KB"
        found.filters["score"] = results.fmt   # one precision for every score shown
        # Audit actions in words (templates/_names.j2); the raw view shows the code itself.
        found.filters["action"] = lambda code: names.action(names.table(found), code)
        found.globals["chart"] = charts         # SVG charts drawn on the server (bot/web/admin/charts.py)
        # Shared label files use the renderer's globals (e.g. `ex`, examples from the edition's calendar).
        found.globals.update(runtime.renderer.env.globals)
        runtime.services["admin_pages_env"] = found
    return found


def headers(resp: Response) -> Response:
    """The headers every workbench answer carries."""
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Frame-Options", "DENY")
    return resp


def page(name: str, status: int = 200, **data: Any) -> Response:
    """Render templates/pages/admin/<name>.html.j2 with the signed-in member and the navigation."""
    runtime = rt()
    html = env().get_template(f"pages/admin/{name}.html.j2").render(
        award=runtime.settings.award, me=getattr(g, "admin_member", None), nav=getattr(g, "admin_nav", []),
        section=getattr(g, "admin_section", ""), **data)
    return headers(Response(html, status=status, mimetype="text/html"))


def message(kind: str, **data: Any) -> str:
    """A chat message template as plain text (the workbench says what chat says, e.g. errors.<code>)."""
    body = rt().renderer.message("page", kind, data)[0]
    text = body.get("markdown", body.get("text", {})).get("content", "")
    return re.sub(r"[`*>]", "", text)
