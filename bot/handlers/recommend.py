"""The recommending unit's chat: the review card's buttons, the written opinion, the confirmation, `推荐`.

A click on 推荐 / 不推荐 / 退回修改 starts the dialog; the written opinion follows; a confirmation card says
what will happen; only 确认 records the decision (`recommendation.decide`). `推荐` lists what waits for the
unit (and re-sends a card where the member has none); `推荐 更改 <编号>` offers a new card to change a
decision before the formal review starts.
"""
from __future__ import annotations

from typing import Any

from workflows import apply
from workflows.apply import recommendation
from workflows.apply.models import Application
from workflows.core import conversation, stages
from workflows.core.errors import InvalidInput, NotFound
from workflows.core.models import CardTask, Conversation

from .. import confirm
from ..router import Context, Router
from ..wecom.inbound import CardEvent, Inbound, Text

ACTION = "recommend"
CHANGE_WORDS = ("更改", "修改", "改")


def on_card(ctx: Context, event: CardEvent, rest: str) -> None:
    """推荐 / 不推荐 / 退回修改 clicked: check it can be accepted, then ask for the written opinion."""
    decision, _, ref = rest.partition(":")
    task = ctx.session.get(CardTask, event.task_id)
    if task is None or task.kind != recommendation.CARD or task.recipient != ctx.userid or not ref.isdigit() \
            or task.subject != f"application:{ref}":
        raise NotFound("card_unknown")
    app = apply.get(ctx.session, ctx.settings, int(ref))
    if task.status != "open":
        ctx.reply("recommend.card_closed", number=app.number, enterprise=app.enterprise_name)
        return
    rec = recommendation.check_decidable(ctx.session, ctx.settings, app, actor=ctx.userid, now=ctx.now,
                                         decision=decision)
    conversation.start(ctx.session, ctx.userid, recommendation.FLOW, recommendation.OPINION_STEP, now=ctx.now,
                       application_id=app.id, decision=decision, task_id=task.task_id,
                       response_code=event.response_code, based_on=recommendation.version(rec))
    ctx.reply("recommend.ask_opinion", decision=decision, number=app.number, enterprise=app.enterprise_name,
              previous=rec.decision if rec else "")


def on_opinion(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
    """The written opinion (推荐意见): checked, then a confirmation card says what 确认 will do."""
    if not isinstance(inbound, Text):
        ctx.reply("recommend.text_only")
        return
    data = conv.data or {}
    opinion = recommendation.clean_opinion(inbound.content)
    app = apply.get(ctx.session, ctx.settings, int(data["application_id"]))
    rec = recommendation.check_decidable(ctx.session, ctx.settings, app, actor=ctx.userid, now=ctx.now,
                                         decision=data["decision"])
    conversation.end(ctx.session, ctx.userid)
    confirm.ask(ctx, ACTION, subject=f"application:{app.id}",
                params={"application_id": app.id, "decision": data["decision"], "opinion": opinion,
                        "based_on": data.get("based_on", ""), "task_id": data.get("task_id"),
                        "response_code": data.get("response_code")},
                number=app.number, enterprise=app.enterprise_name, decision=data["decision"], opinion=opinion,
                previous=rec.decision if rec else "", unit=apply.unit_name(ctx.settings, app),
                review_stage=ctx.settings.award.stage(recommendation.REVIEW_STAGE).name,
                changeable=recommendation.changeable(ctx.session, ctx.settings))


def on_confirmed(ctx: Context, params: dict[str, Any]) -> None:
    """确认: record the decision (or the change) for the unit."""
    click = (params["task_id"], params["response_code"]) if params.get("task_id") else None
    rec = recommendation.decide(ctx.session, ctx.settings, application_id=int(params["application_id"]),
                                decision=params["decision"], opinion=params["opinion"], actor=ctx.userid,
                                now=ctx.now, based_on=params.get("based_on", ""), click=click)
    app = ctx.session.get(Application, rec.application_id)
    ctx.reply("recommend.done", decision=rec.decision, number=app.number, enterprise=app.enterprise_name,
              review_stage=ctx.settings.award.stage(recommendation.REVIEW_STAGE).name,
              changeable=recommendation.changeable(ctx.session, ctx.settings))


def on_pending(ctx: Context, args: str) -> None:
    """推荐: what waits for the unit (a card is re-sent where the member has none); 推荐 更改 <编号>."""
    parts = args.split()
    if parts and parts[0] in CHANGE_WORDS:
        if len(parts) < 2:
            raise InvalidInput("recommend_change_usage")
        app = apply.by_number(ctx.session, ctx.settings, parts[1])
        rec = recommendation.check_decidable(ctx.session, ctx.settings, app, actor=ctx.userid, now=ctx.now)
        ctx.reply("recommend.change_offered", number=app.number, enterprise=app.enterprise_name,
                  current=rec.decision if rec else "")
        recommendation.offer(ctx.session, ctx.settings, app, ctx.userid, now=ctx.now)
        return
    conv = ctx.conversation()
    writing = None
    if conv is not None and conv.flow == recommendation.FLOW:
        writing = ctx.session.get(Application, int((conv.data or {}).get("application_id", 0)))
    waiting = recommendation.pending_for(ctx.session, ctx.settings, ctx.userid)
    # Only what can still be decided is offered; the rest is listed as past its deadline.
    pending = [a for a in waiting if stages.is_open(ctx.session, ctx.settings, apply.STAGE, now=ctx.now,
                                                    subject=apply.subject(a))]
    late = [a for a in waiting if a not in pending]
    # A member without a card (added to the roster later, or a card lost) gets one: the list says "请在卡片上选择".
    resent = [a for a in pending if not recommendation.has_open_card(ctx.session, a, ctx.userid)]
    decided = recommendation.changeable_for(ctx.session, ctx.settings, ctx.userid, now=ctx.now)
    ctx.reply("recommend.pending",
              apps=[{"number": a.number, "enterprise": a.enterprise_name, "materials_id": a.id,
                     "resent": a in resent} for a in pending],
              late=[{"number": a.number, "enterprise": a.enterprise_name,
                     "deadline": apply.deadline_for(ctx.session, ctx.settings, a)} for a in late],
              decided=[{"number": a.number, "enterprise": a.enterprise_name,
                        "decision": recommendation.current(ctx.session, a).decision} for a in decided],
              writing={"number": writing.number, "enterprise": writing.enterprise_name,
                       "decision": conv.data.get("decision")} if writing else None,
              review_stage=ctx.settings.award.stage(recommendation.REVIEW_STAGE).name)
    for app in resent:
        recommendation.offer(ctx.session, ctx.settings, app, ctx.userid, now=ctx.now)


def register(router: Router) -> None:
    """Register the recommender's card, dialog, confirmation and word."""
    router.card("rec:")(on_card)
    router.flow(recommendation.FLOW)(on_opinion)
    router.confirmed(ACTION)(on_confirmed)
    router.command("推荐", verbs=("recommend.decide",), order=20)(on_pending)
