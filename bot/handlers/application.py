"""The applicant's chat: 申报 (start/resume), the guided steps, files, 进度, 提交 and its card; 延期."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import Session

from workflows import application as svc
from workflows import application_flow as flow
from workflows import conversation, notices
from workflows.errors import InvalidInput, NotFound
from workflows.model import AppStatus, Application, CardTask, Conversation
from workflows.settings import Settings

from . import supplement
from ..media import PURPOSE
from ..router import Context, Router
from ..wecom.inbound import CardEvent, Event, Inbound, Media, Text

CONFIRM_CARD = "apply.confirm"
FILE_TYPES = ("image", "file")
OPEN_STATUSES = (AppStatus.DRAFT, AppStatus.RETURNED, AppStatus.INELIGIBLE)


def summary(session: Session, settings: Settings, app: Application) -> dict[str, Any]:
    """The application as templates show it (facts, checklist with file names, deadline)."""
    docs = svc.current_documents(app)
    cl = svc.checklist(session, settings, app)
    entries = [{"key": e.key, "name": e.name, "state": e.state, "reason": e.reason or "", "required": e.required,
                "provided_by": e.provided_by, "file": docs[e.key].original_name if e.key in docs else "",
                "size": docs[e.key].size if e.key in docs else 0} for e in cl.entries]
    return {"application_id": app.id, "number": app.number or "", "status": app.status,
            "enterprise": app.enterprise_name or "", "credit_code": app.credit_code or "",
            "unit": svc.unit_name(settings, app), "industry": app.industry or "",
            "contact": app.contact_name or "", "phone": app.contact_phone or "",
            "deadline": svc.deadline_for(session, settings, app), "entries": entries,
            "missing": [settings.award.material(k).name for k in cl.missing_required],
            "missing_facts": svc.missing_facts(app), "returned_reason": app.returned_reason or ""}


def step_data(session: Session, settings: Settings, app: Application, pos: flow.Position) -> dict[str, Any]:
    """What the prompt for a step needs."""
    data: dict[str, Any] = {"remaining": pos.remaining, "application_id": app.id,
                            "deadline": svc.deadline_for(session, settings, app)}
    if pos.step == flow.Step.UNIT:
        data["regions"] = [r.name for r in settings.award.regions]
        data["departments"] = list(settings.award.departments)
    elif pos.step == flow.Step.INDUSTRY:
        data["industries"] = list(settings.award.industries)
    elif pos.step == flow.Step.ELIGIBILITY:
        q = next(q for q in settings.award.eligibility if q.key == pos.data["question"])
        data |= {"question": q.question, "must": q.kind == "must_yes"}
    elif pos.step == flow.Step.MATERIAL:
        item = settings.award.material(pos.data["item"])
        current = svc.current_documents(app).get(item.key)
        data |= {"item_key": item.key, "item": item.name, "description": item.description, "kinds": item.kinds,
                 "max_mb": item.max_mb, "required": item.required, "current": current.original_name if current else ""}
    elif pos.step == flow.Step.READY:
        data["items"] = [m.name for m in svc.applicant_materials(settings)]
    elif pos.step == flow.Step.ENDED:
        data["reason"] = svc.failed_reason(settings, app)
    return data


def prompt(session: Session, settings: Settings, app: Application, pos: flow.Position, userid: str,
           now: dt.datetime) -> None:
    """Queue the question for the applicant's current step."""
    notices.notify(session, userid, f"apply.step_{pos.step.value}", now=now, _reply=True,
                   **step_data(session, settings, app, pos))


def after_upload(session: Session, settings: Settings, application_id: int, userid: str, now: dt.datetime) -> None:
    """After a file arrived (chat or page): move an applicant in the apply dialog on to the next item."""
    conv = conversation.current(session, userid)
    if conv is None or conv.flow != flow.FLOW or conv.data.get("application_id") != application_id:
        return
    app = svc.get(session, settings, application_id)
    if app.status not in (AppStatus.DRAFT, AppStatus.RETURNED):
        return
    prompt(session, settings, app, flow.resume(session, settings, app, userid=userid, now=now), userid, now)


def show_progress(ctx: Context, app: Application) -> None:
    """Reply with the checklist, the status and the deadline."""
    ctx.reply("apply.progress", **summary(ctx.session, ctx.settings, app))


def on_apply(ctx: Context, args: str = "") -> None:
    """申报: start or resume the member's application."""
    app = svc.get_for_applicant(ctx.session, ctx.settings, ctx.userid)
    if app is not None and app.status == AppStatus.SUPPLEMENT:
        supplement.resume(ctx, app)
        return
    if app is not None and app.status not in OPEN_STATUSES:
        show_progress(ctx, app)
        return
    app, created = svc.start(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now)
    pos = flow.resume(ctx.session, ctx.settings, app, userid=ctx.userid, now=ctx.now)
    ctx.reply("apply.greet", created=created, name=app.contact_name or ctx.name, enterprise=app.enterprise_name or "",
              deadline=svc.deadline_for(ctx.session, ctx.settings, app), remaining=pos.remaining,
              returned_reason=app.returned_reason if app.status == AppStatus.RETURNED else "")
    prompt(ctx.session, ctx.settings, app, pos, ctx.userid, ctx.now)


def _own_app(ctx: Context) -> Application:
    app = svc.get_for_applicant(ctx.session, ctx.settings, ctx.userid)
    if app is None:
        raise NotFound("no_application")
    return app


def on_progress(ctx: Context, args: str = "") -> None:
    """进度: the checklist and the deadline."""
    show_progress(ctx, _own_app(ctx))


def on_submit(ctx: Context, args: str = "") -> None:
    """提交: check completeness, then ask for confirmation with a card."""
    app = _own_app(ctx)
    svc.check_submittable(ctx.session, ctx.settings, app, ctx.now)
    notices.send_card(ctx.session, ctx.userid, CONFIRM_CARD, subject=svc.subject(app), now=ctx.now,
                      **summary(ctx.session, ctx.settings, app))


def on_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
    """A message while in the apply dialog: an answer, or a file for the current material item."""
    try:
        app = svc.get(ctx.session, ctx.settings, int(conv.data.get("application_id", 0)))
    except NotFound:
        conversation.end(ctx.session, ctx.userid)
        raise
    if isinstance(inbound, Media):
        on_file(ctx, inbound, conv, app)
        return
    if not isinstance(inbound, Text):
        ctx.reply("common.unsupported", kind="")
        return
    pos = flow.answer(ctx.session, ctx.settings, app, conv, inbound.content, actor=ctx.userid, now=ctx.now)
    prompt(ctx.session, ctx.settings, app, pos, ctx.userid, ctx.now)


def on_file(ctx: Context, media: Media, conv: Conversation, app: Application) -> None:
    """Queue the download of a chat attachment for the current item (done by the sender, not here)."""
    if media.media_type not in FILE_TYPES:
        ctx.reply("apply.media_unsupported", media_type=media.media_type)
        return
    item_key = conv.data.get("item") if conv.step == flow.Step.MATERIAL else None
    if not item_key:
        ctx.reply("apply.file_not_now", step=conv.step)
        return
    svc.require_editable(ctx.session, ctx.settings, app, ctx.now)
    notices.fetch_media(ctx.session, ctx.userid, media_id=media.media_id, purpose=PURPOSE, now=ctx.now,
                        application_id=app.id, item_key=item_key, filename=media.filename)
    ctx.reply("apply.receiving", item=ctx.settings.award.material(item_key).name)


def on_card(ctx: Context, event: CardEvent, rest: str) -> None:
    """确认提交 / 再检查 on the confirmation card."""
    action, _, app_id = rest.partition(":")
    task = ctx.session.get(CardTask, event.task_id)
    if task is None or task.recipient != ctx.userid or task.kind != CONFIRM_CARD or task.subject != f"application:{app_id}":
        ctx.reply("common.card_unknown")
        return
    if task.status != "open":
        ctx.reply("errors.already_done")
        return
    app = svc.get(ctx.session, ctx.settings, int(app_id))
    if action == "confirm":
        svc.submit(ctx.session, ctx.settings, app, actor=ctx.userid, now=ctx.now)
        conversation.end(ctx.session, ctx.userid)
    elif action != "recheck":
        ctx.reply("common.card_unknown")
        return
    notices.update_card(ctx.session, task, CONFIRM_CARD, response_code=event.response_code, now=ctx.now,
                        **summary(ctx.session, ctx.settings, app), decided=action)
    if action == "recheck":
        show_progress(ctx, app)


_WHEN = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})(?:[ T](\d{1,2}:\d{2}))?$")


def parse_until(text: str, settings: Settings) -> dt.datetime:
    """'2018-11-20' (end of that day) or '2018-11-20 18:00' in the award's time zone, as UTC."""
    m = _WHEN.match(text.strip())
    if not m:
        raise InvalidInput("bad_extend_command")
    try:
        day = dt.date.fromisoformat("-".join(f"{int(p):02d}" for p in m.group(1).split("-")))
        at = dt.time.fromisoformat(f"{int(m.group(2).split(':')[0]):02d}:{m.group(2).split(':')[1]}") \
            if m.group(2) else dt.time(23, 59, 59)
    except ValueError:
        raise InvalidInput("bad_extend_command") from None
    return dt.datetime.combine(day, at, tzinfo=settings.award.tz).astimezone(dt.timezone.utc)


def on_extend(ctx: Context, args: str) -> None:
    """延期 <编号|信用代码|全部> <日期> [时间] [原因]: extend the application deadline (secretariat)."""
    parts = args.split()
    if len(parts) < 2:
        raise InvalidInput("bad_extend_command")
    target, rest = parts[0], parts[1:]
    when = rest.pop(0)
    if rest and re.fullmatch(r"\d{1,2}:\d{2}", rest[0]):
        when += " " + rest.pop(0)
    until = parse_until(when, ctx.settings)
    number = None if target in ("全部", "all") else target
    new, app = svc.extend_deadline(ctx.session, ctx.settings, until=until, actor=ctx.userid, now=ctx.now,
                                   number=number, reason=" ".join(rest))
    ctx.reply("apply.extended", deadline=new, number=(app.number or app.enterprise_name or "") if app else "",
              everyone=app is None)


def register(router: Router) -> None:
    """Register the applicant's words, dialog, card and the secretariat's 延期."""
    router.command("申报", roles=("applicant",), order=10)(on_apply)
    router.command("进度", roles=("applicant",), order=11)(on_progress)
    router.command("提交", roles=("applicant",), order=12)(on_submit)
    router.command("延期", roles=("secretariat",), order=60)(on_extend)
    router.flow(flow.FLOW)(on_flow)
    router.card("apply:")(on_card)
    router.menu("apply", "申报")
    router.menu("progress", "进度")
    previous = router.events.get("enter_agent")

    @router.event("enter_agent")
    def on_enter(ctx: Context, event: Event) -> None:
        # Entering the app resumes an unfinished application; everyone else gets the usual welcome.
        app = svc.get_for_applicant(ctx.session, ctx.settings, ctx.userid) if ctx.person is None else None
        if app is not None and app.status in (AppStatus.DRAFT, AppStatus.RETURNED) and ctx.conversation() is None:
            on_apply(ctx)
        elif previous is not None:
            previous(ctx, event)
