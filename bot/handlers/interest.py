"""利益冲突声明 (issue 25.4): before an assigned application's files open, the expert declares no conflict (card or
`声明 <编号> 无冲突`, then the confirmation card) or a conflict with a reason code (the 回避 flow of experts.py)."""
from __future__ import annotations

from typing import Any

from workflows import apply, scoring
from workflows.apply.models import Application
from workflows.core import conversation, notices
from workflows.core.errors import AlreadyDone, NotFound
from workflows.core.models import CardTask
from workflows.scoring import interest

from .. import confirm
from ..router import Context, Router
from ..wecom.inbound import CardEvent
from .experts import REASON_FLOW   # a declared conflict goes on as a 回避: its reason code, then the confirmation

NONE_WORDS = ("无冲突", "无利益冲突", "没有冲突", "无")


def ask(ctx: Context, app: Application) -> None:
    """The declaration: what it covers, then the card (无利益冲突 / 存在利益冲突)."""
    years = ctx.settings.award.rules.conflict_lookback_years
    ctx.reply("interest.ask", number=app.number, enterprise=app.enterprise_name, years=years)
    notices.send_card(ctx.session, ctx.userid, "experts.interest", subject=f"interest:{app.id}", now=ctx.now,
                      number=app.number, enterprise=app.enterprise_name, application_id=app.id, years=years)


def send_materials(ctx: Context, app: Application) -> int:
    """Send the application's current documents as files; how many."""
    count = 0
    for doc in sorted(apply.current_documents(app).values(), key=lambda d: d.id):
        notices.send_file(ctx.session, ctx.userid, sha256=doc.sha256, filename=doc.original_name, now=ctx.now)
        count += 1
    ctx.reply("scoring.materials_sent", number=app.number, enterprise=app.enterprise_name, count=count)
    return count


def _ask_none(ctx: Context, app: Application, click: list | None = None) -> None:
    years = ctx.settings.award.rules.conflict_lookback_years
    confirm.ask(ctx, "interest_none", subject=f"application:{app.id}", params={"number": app.number, "click": click},
                number=app.number, enterprise=app.enterprise_name, years=years)


def _ask_conflict_reason(ctx: Context, app: Application) -> None:
    scoring.check_conflict(ctx.session, ctx.settings, ctx.userid, app.number)
    conversation.start(ctx.session, ctx.userid, REASON_FLOW, "conflict", now=ctx.now, number=app.number)
    ctx.reply("experts.conflict_ask_reason", number=app.number, enterprise=app.enterprise_name,
              years=ctx.settings.award.rules.conflict_lookback_years)


def register(router: Router) -> None:
    """Register 声明, the declaration card and its confirmation."""

    @router.command("声明", verbs=("experts.declare_conflict",), order=31)
    def on_declare(ctx: Context, args: str) -> None:
        words = args.split()
        if not words:
            ctx.reply("interest.usage")
            return
        app = interest.check_declarable(ctx.session, ctx.settings, ctx.userid, words[0])
        if len(words) == 1:
            ask(ctx, app)
        elif words[1] in NONE_WORDS:
            _ask_none(ctx, app)
        else:
            ctx.reply("interest.usage")

    @router.card("interest:")
    def on_card(ctx: Context, event: CardEvent, rest: str) -> None:
        answer, _, ref = rest.partition(":")
        task = ctx.session.get(CardTask, event.task_id)
        if task is None or task.recipient != ctx.userid or not ref.isdigit() or answer not in ("none", "conflict") \
                or task.status != "open":
            ctx.reply("common.card_unknown")
            return
        app = ctx.session.get(Application, int(ref))
        if app is None:
            raise NotFound("not_assigned", number="")
        try:
            interest.check_declarable(ctx.session, ctx.settings, ctx.userid, app.number)
        except AlreadyDone:
            notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                                replace_name="handled")
            raise
        if answer == "none":
            _ask_none(ctx, app, [task.task_id, event.response_code])
        else:
            notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                                replace_name="declined")
            _ask_conflict_reason(ctx, app)

    @router.confirmed("interest_none")
    def on_none(ctx: Context, params: dict[str, Any]) -> None:
        app = interest.declare_none(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, number=params["number"])
        confirm.grey_origin(ctx, params, "declared")
        ctx.reply("interest.recorded", number=app.number, enterprise=app.enterprise_name)
        phase = scoring.current_phase(ctx.session, ctx.settings)
        if phase is not None and app in scoring.assigned_to(ctx.session, ctx.settings, ctx.userid, phase):
            send_materials(ctx, app)   # what he asked for when the declaration was asked
