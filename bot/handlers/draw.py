"""The expert draw in chat: `专家抽选` (status, draw, 核验), `组长`, and each drawn expert's 承诺书 card.

The draw, the leader and the pledge answers are consequential: each is confirmed on the one confirmation
card (bot/confirm.py). Nothing is offered that will be refused: the same checks run before the card.
"""
from __future__ import annotations

from typing import Any

from workflows.core import conversation, notices
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.core.models import CardTask, Conversation
from workflows.scoring import draw, leader

from .. import confirm
from ..router import Context, Router
from ..wecom.inbound import CardEvent, Inbound, Text

DECLINE_FLOW = "pledge_decline"
SKIP = "跳过"


def _status(ctx: Context) -> dict[str, Any]:
    view = draw.panel(ctx.session, ctx.settings)
    d = view.draw
    return {"pool": view.pool, "members": view.members, "leader": view.leader,
            "draw": None if d is None else {"seed": d.seed, "count": d.count, "reserves": d.reserves,
                                            "pool_digest": d.pool_digest, "excluded": d.excluded,
                                            "drawn_at": d.drawn_at.isoformat(),
                                            "supplements": [{k: x[k] for k in ("number", "seed", "count", "drawn",
                                                                                "drawn_at")}
                                                            for x in d.supplements or []]},
            "reserves": ctx.settings.award.rules.expert_reserves,
            "need": draw.supplement_offer(ctx.session, ctx.settings)[0],
            "can_draw": draw.supplement_offer(ctx.session, ctx.settings)[1],
            "waiting": len([m for m in view.members if m["status"] == "waiting"])}


def _verified(v: draw.Verification, seed: str) -> dict[str, Any]:
    return {"matches": v.matches, "pool_matches": v.pool_matches, "seed_matches": v.seed_matches,
            "experts": v.experts, "reserves": v.reserves, "seed": seed.strip(), "number": v.number}


def _check_draw(ctx: Context, count: int, seed: str) -> int:
    """The checks the draw will run, read-only; the number of eligible entries."""
    if draw.recorded(ctx.session, ctx.settings) is not None:
        raise AlreadyDone("draw_already_made")
    if not seed or len(seed) > draw.SEED_MAX:
        raise InvalidInput("draw_bad_seed", max=draw.SEED_MAX)
    if count < 1:
        raise InvalidInput("draw_bad_count", count=count)
    entries = draw.pool(ctx.session, ctx.settings)
    if not entries:
        raise NotFound("draw_no_pool")
    eligible = len(entries) - len(draw.exclusions(ctx.session, ctx.settings, entries))
    if eligible < count:
        raise InvalidInput("draw_not_enough", count=count, eligible=eligible, pool=len(entries))
    return eligible


def register(router: Router) -> None:
    """Register 专家抽选, 组长, 承诺书 and the pledge card."""

    @router.command("专家抽选", verbs=("experts.draw",), order=38)
    def on_draw(ctx: Context, args: str) -> None:
        words = args.split(maxsplit=1)
        if not words:
            ctx.reply("draw.status", **_status(ctx))
            return
        if words[0] == "核验":
            if len(words) < 2:
                ctx.reply("draw.usage")
                return
            rest = words[1].split(maxsplit=1)
            if rest[0].startswith("补充") and (rest[0][2:].isdigit() or rest[0] == "补充"):
                if len(rest) < 2:
                    ctx.reply("draw.usage")
                    return
                v = draw.verify_supplement(ctx.session, ctx.settings, int(rest[0][2:] or 1), rest[1])
                ctx.reply("draw.verified", **_verified(v, rest[1]))
                return
            v = draw.verify(ctx.session, ctx.settings, words[1])
            ctx.reply("draw.verified", **_verified(v, words[1]))
            return
        if words[0] == "补充":
            rest = words[1].split(maxsplit=1) if len(words) > 1 else []
            if len(rest) < 2 or not rest[0].isdigit():
                ctx.reply("draw.usage")
                return
            count, seed = int(rest[0]), rest[1].strip()
            plan = draw.check_supplement(ctx.session, ctx.settings, count, seed)
            confirm.ask(ctx, "expert_draw_supplement", subject=f"draw:{ctx.settings.award.edition_key}",
                        params={"count": count, "seed": seed}, count=count, seed=seed, eligible=len(plan.eligible),
                        need=plan.need, number=len(plan.row.supplements or []) + 1)
            return
        if len(words) < 2 or not words[0].isdigit():
            ctx.reply("draw.usage")
            return
        count, seed = int(words[0]), words[1].strip()
        eligible = _check_draw(ctx, count, seed)
        confirm.ask(ctx, "expert_draw", subject=f"draw:{ctx.settings.award.edition_key}",
                    params={"count": count, "seed": seed}, count=count, seed=seed, eligible=eligible,
                    reserves=min(ctx.settings.award.rules.expert_reserves, eligible - count),
                    pool=len(draw.pool(ctx.session, ctx.settings)))

    @router.confirmed("expert_draw")
    def on_draw_confirmed(ctx: Context, params: dict[str, Any]) -> None:
        draw.draw(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, count=int(params["count"]),
                  seed=str(params["seed"]))
        ctx.reply("draw.made", **_status(ctx))

    @router.confirmed("expert_draw_supplement")
    def on_supplement_confirmed(ctx: Context, params: dict[str, Any]) -> None:
        record = draw.supplement(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                                 count=int(params["count"]), seed=str(params["seed"]))
        ctx.reply("draw.supplement_made", supplement={k: record[k] for k in ("number", "seed", "count")},
                  **_status(ctx))

    @router.command("组长", verbs=("experts.leader",), order=39)
    def on_leader(ctx: Context, args: str) -> None:
        who, _, basis = args.strip().partition(" ")
        if not who:
            ctx.reply("draw.leader_usage", **_status(ctx))
            return
        person = leader.check_engage(ctx.session, ctx.settings, who, basis)
        confirm.ask(ctx, "appoint_leader", subject=f"leader:{ctx.settings.award.edition_key}",
                    params={"userid": person.userid, "basis": basis.strip()},
                    member={"name": person.name, "userid": person.userid, "organization": person.organization or ""},
                    basis=basis.strip(), previous=draw.leader_of(ctx.session, ctx.settings) or "")

    @router.confirmed("appoint_leader")
    def on_leader_confirmed(ctx: Context, params: dict[str, Any]) -> None:
        person = leader.engage(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, who=str(params["userid"]),
                               basis=str(params.get("basis") or ""))
        ctx.reply("draw.leader_done", name=person.name, userid=person.userid)

    @router.command("承诺书", verbs=("experts.pledge",), order=29)
    def on_pledge(ctx: Context, args: str) -> None:
        member = draw.resend(ctx.session, ctx.settings, ctx.userid, ctx.now)
        if member is None or member.status != "asked":
            ctx.reply("draw.pledge_status", status=member.status if member else None,
                      drawn=draw.recorded(ctx.session, ctx.settings) is not None)

    @router.card("pledge:")
    def on_pledge_card(ctx: Context, event: CardEvent, rest: str) -> None:
        answer, _, ref = rest.partition(":")
        task = ctx.session.get(CardTask, event.task_id)
        if task is None or task.recipient != ctx.userid or not ref.isdigit() or answer not in ("accept", "decline"):
            ctx.reply("common.card_unknown")
            return
        try:
            member = draw.check_answerable(ctx.session, ctx.settings, int(ref), ctx.userid)
        except AlreadyDone:
            notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                                replace_name="handled")
            raise
        click = [task.task_id, event.response_code]
        if answer == "decline":  # the reason first (or 跳过), then the confirmation
            conversation.start(ctx.session, ctx.userid, DECLINE_FLOW, "reason", now=ctx.now, member_id=member.id,
                               click=click)
            ctx.reply("draw.ask_decline_reason")
            return
        confirm.ask(ctx, "pledge_accept", subject=f"pledge:{member.id}",
                    params={"member_id": member.id, "click": click}, role=member.kind)

    @router.flow(DECLINE_FLOW)
    def on_decline_reason(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
        data = dict(conv.data or {})
        member = draw.check_answerable(ctx.session, ctx.settings, int(data["member_id"]), ctx.userid)
        text = " ".join(inbound.content.split())[:200] if isinstance(inbound, Text) else ""
        if not text:
            ctx.reply("draw.ask_decline_reason")
            return
        reason = "" if text == SKIP else text
        conversation.end(ctx.session, ctx.userid)
        confirm.ask(ctx, "pledge_decline", subject=f"pledge:{member.id}",
                    params={"member_id": member.id, "reason": reason, "click": data.get("click")},
                    role=member.kind, reason=reason)


    @router.confirmed("pledge_accept")
    def on_accept(ctx: Context, params: dict[str, Any]) -> None:
        draw.accept_pledge(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, member_id=int(params["member_id"]))
        confirm.grey_origin(ctx, params, "pledged")
        ctx.reply("draw.pledge_accepted")

    @router.confirmed("pledge_decline")
    def on_decline(ctx: Context, params: dict[str, Any]) -> None:
        draw.decline(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, member_id=int(params["member_id"]),
                     reason=str(params.get("reason") or ""))
        confirm.grey_origin(ctx, params, "declined")
        ctx.reply("draw.pledge_declined")
