"""The recommending unit's chat: the review card's buttons, the written opinion, and 推荐 (pending list)."""
from __future__ import annotations

from workflows.core import conversation
from workflows.apply import recommendation
from workflows.apply.models import Application
from workflows.core.models import Conversation

from ..router import Context, Router
from ..wecom.inbound import CardEvent, Inbound, Text


def on_card(ctx: Context, event: CardEvent, rest: str) -> None:
    """推荐 / 不推荐 / 退回修改 clicked: close the card and ask for the opinion."""
    decision, _, _app_id = rest.partition(":")
    rec = recommendation.decide(ctx.session, ctx.settings, task_id=event.task_id, decision=decision,
                                actor=ctx.userid, now=ctx.now, response_code=event.response_code)
    app = ctx.session.get(Application, rec.application_id)
    ctx.reply("recommend.ask_opinion", decision=decision, number=app.number, enterprise=app.enterprise_name)


def on_opinion(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
    """The written opinion (推荐意见) after a decision."""
    if not isinstance(inbound, Text):
        ctx.reply("recommend.text_only")
        return
    app = recommendation.give_opinion(ctx.session, ctx.settings, recommendation_id=int(conv.data["recommendation_id"]),
                                      text=inbound.content, actor=ctx.userid, now=ctx.now)
    ctx.reply("recommend.done", decision=app.status, number=app.number, enterprise=app.enterprise_name)


def on_pending(ctx: Context, args: str) -> None:
    """推荐: continue an unfinished opinion, or list the applications waiting for a decision."""
    waiting = recommendation.awaiting_opinion(ctx.session, ctx.settings, ctx.userid)
    if waiting is not None:
        conversation.start(ctx.session, ctx.userid, recommendation.FLOW, recommendation.OPINION_STEP, now=ctx.now,
                           recommendation_id=waiting.id)
        app = ctx.session.get(Application, waiting.application_id)
        ctx.reply("recommend.ask_opinion", decision=waiting.decision, number=app.number, enterprise=app.enterprise_name)
        return
    apps = recommendation.pending_for(ctx.session, ctx.settings, ctx.userid)
    ctx.reply("recommend.pending", apps=[{"number": a.number, "enterprise": a.enterprise_name,
                                          "materials_id": a.id} for a in apps])


def register(router: Router) -> None:
    """Register the recommender's card, dialog and word."""
    router.card("rec:")(on_card)
    router.flow(recommendation.FLOW)(on_opinion)
    router.command("推荐", verbs=("recommend.decide",), order=20)(on_pending)
