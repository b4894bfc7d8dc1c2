"""Confirm before a tap is final: the one confirmation pattern every flow uses.

    confirm.ask(ctx, "accept", subject=f"application:{app.id}", params={...}, app=...)

records the action (`workflows.core.confirmations.propose`) and sends the member the card
`templates/cards/confirm/<action>.json.j2`, which says exactly what will happen and offers
确认 / 取消 (keys `confirm:yes:<id>` / `confirm:no:<id>`; build it with the `confirm_card` macro of
`templates/cards/confirm/_card.j2`). Nothing changes until 确认: then the function registered with
`@router.confirmed("<action>")` runs with `(ctx, params)` and calls the workflow verbs, which check
everything again (the gate, the stage, the state); a refusal then is told and the card says 未执行.
Ask only after the same checks passed (`review.check_decidable`, …), so nothing is offered that will
be refused.
"""
from __future__ import annotations

from typing import Any

from workflows.core import confirmations, notices
from workflows.core.errors import DomainError, NotFound
from workflows.core.models import CardTask

from .router import Context, Router

PREFIX = "confirm:"


def ask(ctx: Context, action: str, *, subject: str, params: dict[str, Any], **shown: Any) -> int:
    """Propose `action` to the member and send the card that asks them to confirm it; the confirmation id."""
    conf = confirmations.propose(ctx.session, userid=ctx.userid, action=action, subject=subject, params=params,
                                 now=ctx.now)
    task = notices.send_card(ctx.session, ctx.userid, f"confirm.{action}", subject=f"confirm:{conf.id}",
                             now=ctx.now, confirm_id=conf.id, **shown)
    conf.task_id = task.task_id
    return conf.id


def grey_origin(ctx: Context, params: dict[str, Any], label: str) -> None:
    """Grey the card whose tap led to a confirmation (`params["click"]` = [task_id, response_code]), if it
    is still open, with the button label `label` (a confirmed action's handler calls this)."""
    click = params.get("click") or []
    task = ctx.session.get(CardTask, click[0]) if click else None
    if task is not None and task.status == "open":
        notices.update_card(ctx.session, task, task.kind, response_code=click[1], now=ctx.now, replace_name=label)


def on_card(router: Router, ctx: Context, event, rest: str) -> None:  # noqa: ANN001
    """确认 / 取消 on a confirmation card."""
    answer, _, ref = rest.partition(":")
    task = ctx.session.get(CardTask, event.task_id)
    if not ref.isdigit() or answer not in ("yes", "no") or task is None or task.recipient != ctx.userid \
            or task.subject != f"confirm:{ref}":
        raise NotFound("confirmation_unknown")
    conf = confirmations.take(ctx.session, int(ref), userid=ctx.userid)
    if answer == "no":
        confirmations.settle(conf, "cancelled", now=ctx.now)
        notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                            replace_name="cancelled")
        ctx.reply("confirm.cancelled")
        return
    run = router.confirmations[conf.action]
    try:
        with ctx.session.begin_nested():
            run(ctx, dict(conf.params))
    except DomainError as exc:  # refused now (the state moved on): nothing changed; say so on the card too
        confirmations.settle(conf, "failed", now=ctx.now)
        notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                            replace_name="not_done")
        ctx.reply(f"errors.{exc.code}", **exc.data)
        return
    confirmations.settle(conf, "confirmed", now=ctx.now)
    notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                        replace_name="confirmed")


def register(router: Router) -> None:
    """Register the confirmation card's buttons."""
    router.card(PREFIX)(lambda ctx, event, rest: on_card(router, ctx, event, rest))
