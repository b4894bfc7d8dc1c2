"""Help, greeting and the words every member can use."""
from __future__ import annotations

from workflows.core import stages

from ..router import Context, Router
from ..wecom.inbound import Event


def register(router: Router) -> None:
    """Register the common handlers."""

    @router.command("帮助", "help", "?", "？", order=0)
    def on_help(ctx: Context, args: str) -> None:
        ctx.reply("common.help", role=ctx.role, name=ctx.person.name if ctx.person else "",
                  commands=router.commands_for(ctx.role))

    @router.event("enter_agent")
    def on_enter(ctx: Context, event: Event) -> None:
        conv = ctx.conversation()
        ctx.reply("common.welcome", role=ctx.role, name=ctx.name,
                  in_flow=conv.flow if conv else "", commands=router.commands_for(ctx.role))

    @router.command("阶段", order=90)
    def on_stages(ctx: Context, args: str) -> None:
        rows = [{"name": st.name, "status": stages.status(ctx.session, ctx.settings, st.key),
                 "deadline": stages.deadline(ctx.session, ctx.settings, st.key)} for st in ctx.settings.award.stages]
        ctx.reply("common.stages", stages=rows)

    router.menu("help", "帮助")
