"""Site visits in chat: the secretariat's `现场安排`, the enterprise's card (确认 / 另约时间 with reason and times).

`现场安排` lists the candidates and their visits; `现场安排 编号 日期 时间 专家,专家 行程…` proposes (or
changes) one, confirmed on the confirmation card first. The enterprise's 确认 and 另约时间 are confirmed too;
另约时间 asks for the reason, then the preferred times, then confirms.
"""
from __future__ import annotations

from typing import Any

from workflows.core import conversation, dates, notices
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.core.models import CardTask, Conversation
from workflows.scoring import visits

from .. import confirm
from ..router import Context, Router
from ..wecom.inbound import CardEvent, Inbound, Text

FLOW = "visit_change"
REASON, PREFERRED = "reason", "preferred"


def parse_proposal(ctx: Context, args: str) -> dict[str, Any]:
    """`编号 日期 时间 专家,专家 行程…` (the time may be glued to the date: 12月20日09:00) as propose() arguments."""
    words = args.split()
    if len(words) < 4:
        raise InvalidInput("visit_usage")
    number = words[0]
    for n_when in (2, 1):  # "2018-12-20 09:00" or one word
        try:
            starts_at = dates.parse_when(" ".join(words[1:1 + n_when]), ctx.settings.award.tz, now=ctx.now)
        except dates.UnreadableTime:
            continue
        if n_when == 1 and ":" not in words[1] and "：" not in words[1]:
            raise InvalidInput("visit_no_time")
        rest = words[1 + n_when:]
        if len(rest) < 2:
            raise InvalidInput("visit_usage")
        experts = [e for e in rest[0].replace("，", ",").replace("、", ",").split(",") if e]
        return {"number": number, "starts_at": starts_at, "experts": experts, "itinerary": " ".join(rest[1:])}
    raise InvalidInput("visit_usage")


def register(router: Router) -> None:
    """Register 现场安排, the enterprise's visit card, the change flow and the confirmed actions."""

    @router.command("现场安排", verbs=("visits.propose",), order=45)
    def on_visits(ctx: Context, args: str) -> None:
        if not args.strip():
            w = visits.window(ctx.session, ctx.settings, now=ctx.now)
            ctx.reply("visits.list", window={"open": w.open, "ahead": w.ahead, "reason": w.reason,
                                             "start": w.start.isoformat(), "end": w.end.isoformat()}, stage=ctx.settings.award.stage(visits.STAGE).name,
                      ahead_stage=ctx.settings.award.stage(visits.AHEAD).name, rows=[{"number": a.number, "enterprise": a.enterprise_name,
                                            "visit": visits.view(ctx.session, ctx.settings, v) if v else None}
                                           for a, v in visits.all_visits(ctx.session, ctx.settings)])
            return
        p = parse_proposal(ctx, args)
        app, experts, itinerary = visits.check_proposal(ctx.session, ctx.settings, now=ctx.now, **p)
        before = visits.visit_of(ctx.session, ctx.settings, app.id)
        confirm.ask(ctx, "visit_propose", subject=f"visit:{app.id}",
                    params={"number": app.number, "starts_at": p["starts_at"].isoformat(), "experts": experts,
                            "itinerary": itinerary},
                    number=app.number, enterprise=app.enterprise_name, starts_at=p["starts_at"].isoformat(),
                    experts=experts, itinerary=itinerary, change=before is not None)

    @router.confirmed("visit_propose")
    def on_propose(ctx: Context, params: dict[str, Any]) -> None:
        import datetime as dt
        visit = visits.propose(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, number=params["number"],
                               starts_at=dt.datetime.fromisoformat(params["starts_at"]), experts=list(params["experts"]),
                               itinerary=params["itinerary"])
        ctx.reply("visits.proposed_done", visit=visits.view(ctx.session, ctx.settings, visit))

    @router.card("visit:")
    def on_card(ctx: Context, event: CardEvent, rest: str) -> None:
        parts = rest.split(":")
        task = ctx.session.get(CardTask, event.task_id)
        if task is None or task.recipient != ctx.userid or len(parts) != 3 or parts[0] not in ("ok", "other") \
                or not (parts[1].isdigit() and parts[2].isdigit()):
            ctx.reply("common.card_unknown")
            return
        answer, visit_id, version = parts[0], int(parts[1]), int(parts[2])
        try:
            visit = visits.check_answerable(ctx.session, ctx.settings, visit_id, version, ctx.userid)
        except AlreadyDone:
            notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                                replace_name="handled")
            raise
        click = [task.task_id, event.response_code]
        if answer == "ok":
            confirm.ask(ctx, "visit_confirm", subject=f"visit:{visit.id}",
                        params={"visit_id": visit.id, "version": version, "click": click},
                        visit=visits.view(ctx.session, ctx.settings, visit))
            return
        conversation.start(ctx.session, ctx.userid, FLOW, REASON, now=ctx.now, visit_id=visit.id, version=version,
                           click=click)
        ctx.reply("visits.ask_reason", visit=visits.view(ctx.session, ctx.settings, visit), max=visits.REASON_MAX)

    @router.flow(FLOW)
    def on_change_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
        data = dict(conv.data or {})
        visit = visits.check_answerable(ctx.session, ctx.settings, int(data["visit_id"]), int(data["version"]),
                                        ctx.userid)
        shown = visits.view(ctx.session, ctx.settings, visit)
        text = visits.clean(inbound.content) if isinstance(inbound, Text) else ""
        if conv.step == REASON:
            if not text:
                ctx.reply("visits.ask_reason", visit=shown, max=visits.REASON_MAX)
                return
            conversation.advance(conv, PREFERRED, now=ctx.now, reason=text)
            ctx.reply("visits.ask_preferred", visit=shown)
            return
        if not text:
            ctx.reply("visits.ask_preferred", visit=shown)
            return
        conversation.end(ctx.session, ctx.userid)
        confirm.ask(ctx, "visit_change", subject=f"visit:{visit.id}",
                    params={"visit_id": visit.id, "version": visit.version, "reason": data["reason"],
                            "preferred": text, "click": data.get("click")},
                    visit=shown, reason=data["reason"], preferred=text)


    @router.confirmed("visit_confirm")
    def on_confirm(ctx: Context, params: dict[str, Any]) -> None:
        visit = visits.confirm(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                               visit_id=int(params["visit_id"]), version=int(params["version"]))
        confirm.grey_origin(ctx, params, "confirmed")
        ctx.reply("visits.confirmed_done", visit=visits.view(ctx.session, ctx.settings, visit))

    @router.confirmed("visit_change")
    def on_change(ctx: Context, params: dict[str, Any]) -> None:
        visit = visits.request_change(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                                      visit_id=int(params["visit_id"]), version=int(params["version"]),
                                      reason=params["reason"], preferred=params["preferred"])
        confirm.grey_origin(ctx, params, "change_requested")
        ctx.reply("visits.change_done", visit=visits.view(ctx.session, ctx.settings, visit))
