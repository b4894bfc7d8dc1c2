"""Broadcasts in the workbench: write a notice to a filtered group, see who it reaches, confirm, follow delivery.

Two steps like every workbench action: the first POST runs the verb in a transaction that is rolled back (the
same gate, the same checks) and shows the recipients by name; only the confirmation queues the notices.
"""
from __future__ import annotations

from flask import Response, redirect, request

from workflows import broadcast
from workflows.apply.models import AppStatus
from workflows.core.errors import DomainError, NotFound

from .auth import Signed, now
from .gate import bp, view
from .render import headers, message, page, rt


def _form() -> dict[str, str]:
    f = request.form
    return {k: f.get(k, "") for k in ("audience", "region", "status", "title", "body")}


def _index(me: Signed, *, form: dict[str, str] | None = None, error: str = "", status: int = 200) -> Response:
    settings = rt().settings
    with rt().sessions() as s:
        past = broadcast.history(s, settings)
    return page("broadcasts", status, past=past, form=form or {"audience": "applicants", "region": "", "status": "", "title": "", "body": ""}, error=error,
                audiences=broadcast.AUDIENCES, regions=settings.award.regions,
                region_names={r.code: r.name for r in settings.award.regions},
                states=[st.value for st in AppStatus], title_max=broadcast.TITLE_MAX, body_max=broadcast.BODY_MAX)


@bp.get("/broadcasts")
@view("broadcasts", "broadcasts.view")
def broadcasts(me: Signed) -> Response:
    """Past broadcasts with their delivery counts, and the form for a new one."""
    return _index(me)


@bp.post("/broadcasts")
@view("broadcasts", "broadcasts.view")
def broadcast_send(me: Signed) -> Response:
    """Check (rolled back) and show who will receive it; once confirmed, queue it and show its delivery."""
    settings, form, t = rt().settings, _form(), now()
    kwargs = dict(actor=me.userid, now=t, **form)
    if request.form.get("confirmed") != "1":
        with rt().sessions() as s:
            try:
                broadcast.send(s, settings, **kwargs)
                people = broadcast.recipients(s, settings, form["audience"], region=form["region"],
                                              status=form["status"])
                title, body = broadcast.check(settings, form["audience"], region=form["region"],
                                              status=form["status"], title=form["title"], body=form["body"])
            except DomainError as exc:
                s.rollback()
                return _index(me, form=form, error=message(f"errors.{exc.code}", **exc.data), status=422)
            finally:
                s.rollback()   # a check only
        return page("broadcast_confirm", form=form, people=people, title=title, body=body)
    try:
        with rt().sessions.begin() as s:
            row = broadcast.send(s, settings, **kwargs)
            row_id = row.id
    except DomainError as exc:
        return _index(me, form=form, error=message(f"errors.{exc.code}", **exc.data), status=422)
    return headers(redirect(f"/admin/broadcasts/{row_id}?done=1", code=303))


@bp.get("/broadcasts/<int:broadcast_id>")
@view("broadcasts", "broadcasts.view")
def broadcast_detail(me: Signed, broadcast_id: int) -> Response:
    """One broadcast: what was sent, to whom, and each member's delivery."""
    settings = rt().settings
    with rt().sessions() as s:
        try:
            row = broadcast.get(s, settings, broadcast_id)
        except NotFound:
            return page("missing", 404)
        items = broadcast.delivery(s, row.id)
    counts = {k: sum(1 for i in items if i["delivery"] == k) for k in ("queued", "sent", "failed")}
    return page("broadcast", b=row, items=items, counts=counts, done=request.args.get("done") == "1")
