"""The secretariat's formal review in chat: review cards (受理 / 需补正 / 不予受理), item selection, reasons.

Every decision is confirmed on a card that says what will happen (bot/confirm.py), and every step is
checked first (`review.check_decidable`), so nothing is offered that will be refused.
"""
from __future__ import annotations

from typing import Any

from workflows.core import access, audit, conversation, notices, stages
from workflows import review
from workflows.core.models import CardTask, Conversation

from .. import confirm
from ..router import Context, Router
from ..wecom.inbound import CardEvent, Inbound, Text

REJECT_REASON = "reject_reason"  # a ReviewStep beside REASON, kept here because only chat uses it


def register(router: Router) -> None:
    """Register the secretariat's review command, card keys, reason flow and confirmed decisions."""

    @router.command("审查", verbs=("review.decide",), order=40)
    def on_review(ctx: Context, args: str) -> None:
        parts = args.split(maxsplit=2)
        if not parts:
            pending = review.pending_for_secretariat(ctx.session, ctx.settings)
            open_now = stages.is_open(ctx.session, ctx.settings, review.STAGE, now=ctx.now)
            if not open_now and stages.status(ctx.session, ctx.settings, review.STAGE) == "pending":
                stages.promise_notice(ctx.session, ctx.settings, review.STAGE, ctx.userid, now=ctx.now, word="审查")
            ctx.reply("review.list", pending=[{"number": p.number or f"#{p.application_id}",
                                               "enterprise_name": p.enterprise_name or "",
                                               "supplement_deadline": review.iso(p.supplement_deadline)}
                                              for p in pending],
                      open=open_now, stage_status=stages.status(ctx.session, ctx.settings, review.STAGE),
                      stage_name=ctx.settings.award.stage(review.STAGE).name)
            return
        if parts[0] == "真实性":
            if len(parts) < 3:
                ctx.reply("review.finding_usage")
                return
            app = review.find_application(ctx.session, ctx.settings, parts[1])
            finding = review.add_finding(ctx.session, ctx.settings, application_id=app.id, kind="authenticity",
                                         detail=parts[2], actor=ctx.userid, now=ctx.now)
            ctx.reply("review.finding_done", number=app.number or app.id, detail=finding.detail)
            return
        app = review.find_application(ctx.session, ctx.settings, parts[0])
        r = review.open_review(ctx.session, ctx.settings, application_id=app.id, actor=ctx.userid, now=ctx.now,
                               to=[ctx.userid])
        ctx.reply("review.detail", app=review.summary(ctx.settings, app),
                  findings=review.findings_view(ctx.settings, r), changes=review.supplement_changes(
                      ctx.session, ctx.settings, app.id))

    @router.card("review:")
    def on_card(ctx: Context, event: CardEvent, rest: str) -> None:
        action, _, ref = rest.partition(":")
        task = ctx.session.get(CardTask, event.task_id)
        allowed = access.allows("review.decide", ctx.role)
        if not allowed or task is None or task.recipient != ctx.userid or not ref.isdigit():
            audit.record(ctx.session, actor=ctx.userid, action="review.click_refused", subject=f"card:{event.task_id}",
                         now=ctx.now, key=event.key[:100], role=ctx.role)
            ctx.reply("errors.not_allowed" if not allowed else "common.card_unknown")
            return
        app_id = int(ref)
        if task.status != "open":
            _refuse_closed(ctx, event, task, app_id)
            return
        click = [task.task_id, event.response_code]
        if action == "accept":
            app = review.check_decidable(ctx.session, ctx.settings, app_id, ctx.now, action="accept")
            r = review.review_for(ctx.session, app_id)
            open_findings = [f for f in (review.findings_view(ctx.settings, r) if r else []) if not f["resolved"]]
            confirm.ask(ctx, "accept", subject=f"application:{app_id}", params={"application_id": app_id,
                                                                               "click": click},
                        app=review.summary(ctx.settings, app), findings=len(open_findings))
        elif action == "reject":
            app = review.check_decidable(ctx.session, ctx.settings, app_id, ctx.now, action="reject")
            conversation.start(ctx.session, ctx.userid, review.REVIEW_FLOW, REJECT_REASON, now=ctx.now,
                               application_id=app_id, click=click)
            ctx.reply("review.ask_reject_reason", app=review.summary(ctx.settings, app), max=review.REASON_MAX)
        elif action == "supplement":
            _send_selection(ctx, app_id)
        elif action == "items":
            _on_items(ctx, event, task, app_id)
        else:
            ctx.reply("common.card_unknown")

    @router.flow(review.REVIEW_FLOW)
    def on_reason(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
        data = conv.data or {}
        if not isinstance(inbound, Text):
            _ask_next(ctx, conv)
            return
        reason = review.clean_reason(inbound.content)
        app_id = int(data["application_id"])
        if conv.step == REJECT_REASON:
            app = review.check_decidable(ctx.session, ctx.settings, app_id, ctx.now, action="reject")
            conversation.end(ctx.session, ctx.userid)
            confirm.ask(ctx, "reject", subject=f"application:{app_id}",
                        params={"application_id": app_id, "reason": reason, "click": data.get("click")},
                        app=review.summary(ctx.settings, app), reason=reason,
                        supplement_open=review.open_request(ctx.session, app_id) is not None)
            return
        items: list[str] = data["items"]
        reasons = {**data.get("reasons", {}), items[len(data.get("reasons", {}))]: reason}
        conversation.advance(conv, review.ReviewStep.REASON, now=ctx.now, reasons=reasons)
        if len(reasons) < len(items):
            _ask_next(ctx, conv)
            return
        app = review.check_decidable(ctx.session, ctx.settings, app_id, ctx.now, action="supplement")
        conversation.end(ctx.session, ctx.userid)
        deadline, capped = review.supplement_deadline(ctx.session, ctx.settings, app_id, ctx.now)
        confirm.ask(ctx, "supplement", subject=f"application:{app_id}",
                    params={"application_id": app_id, "items": {k: reasons[k] for k in items}},
                    app=review.summary(ctx.settings, app), deadline=deadline, capped=capped,
                    items=[{"name": ctx.settings.award.material(k).name, "reason": reasons[k]} for k in items])

    @router.confirmed("accept")
    def on_accept(ctx: Context, params: dict[str, Any]) -> None:
        click = tuple(params.get("click") or ()) or None
        r = review.accept(ctx.session, ctx.settings, application_id=int(params["application_id"]),
                          actor=ctx.userid, now=ctx.now, click=click)
        ctx.reply("review.accepted_done", app=review.summary(ctx.settings, review.application_of(
            ctx.session, ctx.settings, r.application_id)))

    @router.confirmed("reject")
    def on_reject(ctx: Context, params: dict[str, Any]) -> None:
        click = tuple(params.get("click") or ()) or None
        r = review.reject(ctx.session, ctx.settings, application_id=int(params["application_id"]),
                          reason=params["reason"], actor=ctx.userid, now=ctx.now, click=click)
        ctx.reply("review.rejected_done", app=review.summary(ctx.settings, review.application_of(
            ctx.session, ctx.settings, r.application_id)), reason=r.reason)

    @router.confirmed("supplement")
    def on_supplement(ctx: Context, params: dict[str, Any]) -> None:
        req = review.request_supplement(ctx.session, ctx.settings, application_id=int(params["application_id"]),
                                        items=dict(params["items"]), actor=ctx.userid, now=ctx.now)
        app = review.application_of(ctx.session, ctx.settings, req.application_id)
        ctx.reply("review.supplement_sent", app=review.summary(ctx.settings, app),
                  items=[review.vars_of(i) for i in review.owed(ctx.settings, req)],
                  deadline=review.iso(req.deadline), capped=req.deadline == stages.deadline(
                      ctx.session, ctx.settings, review.STAGE, f"application:{app.id}"))


def _refuse_closed(ctx: Context, event: CardEvent, task: CardTask, app_id: int) -> None:
    """A click on a card already handled: refuse, audit, grey the card with the click's code."""
    r = review.review_for(ctx.session, app_id)
    audit.record(ctx.session, actor=ctx.userid, action="review.click_refused", subject=f"application:{app_id}",
                 now=ctx.now, key=event.key[:100], reason="card_closed")
    notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                        replace_name="handled")
    ctx.reply("review.card_closed", decision=r.decision if r else None, by=r.decided_by if r else None)


def _send_selection(ctx: Context, app_id: int) -> None:
    """需补正: a card listing the applicant's items, pre-checked where the findings point."""
    app = review.check_decidable(ctx.session, ctx.settings, app_id, ctx.now, action="supplement")
    r = review.review_for(ctx.session, app_id)
    flagged = {f.item_key for f in (r.findings if r else []) if f.item_key}
    items = [{"key": m.key, "name": m.name, "flagged": m.key in flagged} for m in review.applicant_items(ctx.settings)]
    notices.send_card(ctx.session, ctx.userid, "review.select", subject=f"review-select:{app_id}", now=ctx.now,
                      app=review.summary(ctx.settings, app), items=items)


def _on_items(ctx: Context, event: CardEvent, task: CardTask, app_id: int) -> None:
    """The selection card was submitted: ask for one reason per selected item in chat."""
    allowed = [m.key for m in review.applicant_items(ctx.settings)]
    chosen = set(event.selected.get("items", ()))
    items = [k for k in allowed if k in chosen]
    if not items:
        ctx.reply("errors.no_items")
        return
    review.check_decidable(ctx.session, ctx.settings, app_id, ctx.now, action="supplement")
    notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                        replace_name="selected")
    conv = conversation.start(ctx.session, ctx.userid, review.REVIEW_FLOW, review.ReviewStep.REASON, now=ctx.now,
                              application_id=app_id, items=items, reasons={})
    _ask_next(ctx, conv)


def _ask_next(ctx: Context, conv: Conversation) -> None:
    data = conv.data or {}
    if conv.step == REJECT_REASON:
        app = review.find_application(ctx.session, ctx.settings, str(data["application_id"]))
        ctx.reply("review.ask_reject_reason", app=review.summary(ctx.settings, app), max=review.REASON_MAX)
        return
    items, done = data["items"], len(data.get("reasons", {}))
    ctx.reply("review.ask_reason", item_name=ctx.settings.award.material(items[done]).name, index=done + 1,
              total=len(items), max=review.REASON_MAX)
