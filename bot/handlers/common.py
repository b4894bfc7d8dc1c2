"""Help, greeting and the words every member can use."""
from __future__ import annotations

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
        ctx.reply("common.welcome", role=ctx.role, name=ctx.person.name if ctx.person else "",
                  in_flow=conv.flow if conv else "", commands=router.commands_for(ctx.role))

    router.menu("help", "帮助")
