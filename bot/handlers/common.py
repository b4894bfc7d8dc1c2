"""Help, greeting and the words every member can use."""
from __future__ import annotations

import functools

from workflows.core import access, stages

from ..router import Context, Router
from ..wecom.inbound import Event


def allowed_verbs(role: str) -> list[str]:
    """Every verb and view this role may use (help shows the sub-commands behind them)."""
    return list(_allowed_verbs(role))


@functools.lru_cache(maxsize=None)
def _allowed_verbs(role: str) -> tuple[str, ...]:
    """Worked out once per role and process: POLICY and VIEWS are constants (workflows/core/access.py)."""
    return tuple(sorted(v for v in (*access.POLICY, *access.VIEWS) if access.allows(v, role)))


def register(router: Router) -> None:
    """Register the common handlers."""

    @router.command("帮助", "help", "?", "？", order=0)
    def on_help(ctx: Context, args: str) -> None:
        ctx.reply("common.help", role=ctx.role, name=ctx.known_name(), commands=router.commands_for(ctx.role),
                  allowed=allowed_verbs(ctx.role))

    @router.event("enter_agent")
    def on_enter(ctx: Context, event: Event) -> None:
        conv = ctx.conversation()
        ctx.reply("common.welcome", role=ctx.role, name=ctx.name,
                  in_flow=conv.flow if conv else "", commands=router.commands_for(ctx.role))

    @router.command("阶段", order=90)
    def on_stages(ctx: Context, args: str) -> None:
        rows = [{"name": st.name, "status": stages.status(ctx.session, ctx.settings, st.key), "start": st.start,
                 "deadline": stages.deadline(ctx.session, ctx.settings, st.key)} for st in ctx.settings.award.stages]
        ctx.reply("common.stages", stages=rows)

    router.menu("help", "帮助")
