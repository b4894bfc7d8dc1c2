"""Opening and closing a stage from the workbench (issue 24.1): the same verbs and checks as `stage open|close`
(`workflows/stage_order.py`: what must come first refuses, what is unusual warns), asked first with what will
follow — who will be told, found by running the verb in a transaction that is rolled back — then done."""
from __future__ import annotations

from collections import Counter

from flask import Response, redirect, request
from sqlalchemy import func, select

from workflows import stage_order
from workflows.core import access
from workflows.core.errors import DomainError
from workflows.core.models import OutboxMessage, Person

from .auth import Signed, now
from .gate import bp, view
from .render import headers, message, page, rt

ACTIONS = ("open", "close")


def offered(session, settings, role: str, t) -> dict[str, dict[str, bool]]:  # noqa: ANN001
    """Per stage, the actions to offer this role now: none that the verb would refuse."""
    if not access.allows("stage.open", role):
        return {}
    out = {}
    for st in settings.award.stages:
        plans = {a: stage_order.check(session, settings, st.key, a, now=t) for a in ACTIONS}
        out[st.key] = {a: p.changes and not p.blockers for a, p in plans.items()}
    return out


@bp.post("/stages/<key>/<action>")
@view("edition", "edition.overview")
def stage_action(me: Signed, key: str, action: str) -> Response:
    """Check (rolled back) and show what follows; once confirmed, open or close the stage."""
    settings, t = rt().settings, now()
    if action not in ACTIONS or key not in {st.key for st in settings.award.stages}:
        return page("missing", 404)
    verb = stage_order.open_stage if action == "open" else stage_order.close_stage
    name = settings.award.stage(key).name
    if request.form.get("confirmed") != "1":
        with rt().sessions() as s:
            try:
                plan = stage_order.check(s, settings, key, action, now=t)
                since = s.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
                verb(s, settings, key, actor=me.userid, now=t)
                s.flush()
                rows = s.execute(select(OutboxMessage.recipient).where(OutboxMessage.id > since)).scalars().all()
                roles = dict(s.execute(select(Person.userid, Person.role).where(Person.userid.in_(set(rows)))).all())
                told = Counter(roles.get(r, "applicant") for r in set(rows))
            except DomainError as exc:
                s.rollback()
                return page("stage_confirm", 409, key=key, stage_name=name, action=action, warnings=[], told={},
                            error=message(f"errors.{exc.code}", **exc.data))
            finally:
                s.rollback()   # a check only
        return page("stage_confirm", key=key, stage_name=name, action=action, warnings=plan.warnings, told=dict(told),
                    error="")
    try:
        with rt().sessions.begin() as s:
            verb(s, settings, key, actor=me.userid, now=t)
    except DomainError as exc:
        return page("stage_confirm", 409, key=key, stage_name=name, action=action, warnings=[], told={},
                    error=message(f"errors.{exc.code}", **exc.data))
    return headers(redirect(f"/admin/edition?done={'opened' if action == 'open' else 'closed'}&stage={key}", code=303))
