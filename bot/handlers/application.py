"""The applicant's chat: 申报 (start/resume), the guided steps, files, 进度, 提交 and its card; 延期."""
from __future__ import annotations

import datetime as dt
import re


from workflows import apply, progress
from workflows.core import conversation, dates, notices
from workflows.core.errors import InvalidInput, NotFound
from workflows.apply.models import AppStatus, Application
from workflows.core.models import CardTask, Conversation
from workflows.core.settings import Settings

from . import supplement
from .. import confirm
from ..media import PURPOSE
from workflows import intake
from ..router import Context, Router
from ..wecom.inbound import CardEvent, Event, Inbound, Media, Text

CONFIRM_CARD = "apply.confirm"
FILE_TYPES = ("image", "file")
OPEN_STATUSES = (AppStatus.DRAFT, AppStatus.RETURNED, AppStatus.INELIGIBLE)


def show_progress(ctx: Context, app: Application) -> None:
    """Reply with where the application stands in every stage, and (while it can change) the checklist."""
    ctx.reply("apply.progress", **progress.view(ctx.session, ctx.settings, app, now=ctx.now))


def on_apply(ctx: Context, args: str = "") -> None:
    """申报: start or resume the member's application."""
    app = apply.get_for_applicant(ctx.session, ctx.settings, ctx.userid)
    if app is not None and app.status == AppStatus.SUPPLEMENT:
        supplement.resume(ctx, app)
        return
    if app is not None and app.status not in OPEN_STATUSES:
        show_progress(ctx, app)
        return
    app, created = apply.start(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now)
    pos = apply.resume(ctx.session, ctx.settings, app, userid=ctx.userid, now=ctx.now)
    ctx.reply("apply.greet", created=created, name=app.contact_name or ctx.name, enterprise=app.enterprise_name or "",
              deadline=apply.deadline_for(ctx.session, ctx.settings, app), remaining=pos.remaining,
              returned_reason=app.returned_reason if app.status == AppStatus.RETURNED else "")
    apply.prompt(ctx.session, ctx.settings, app, pos, ctx.userid, ctx.now)


def _own_app(ctx: Context) -> Application:
    app = apply.get_for_applicant(ctx.session, ctx.settings, ctx.userid)
    if app is None:
        raise NotFound("no_application")
    return app


def on_progress(ctx: Context, args: str = "") -> None:
    """进度: the checklist and the deadline."""
    show_progress(ctx, _own_app(ctx))


def on_submit(ctx: Context, args: str = "") -> None:
    """提交: check completeness, then ask for confirmation with a card."""
    app = _own_app(ctx)
    apply.check_submittable(ctx.session, ctx.settings, app, ctx.now)
    notices.send_card(ctx.session, ctx.userid, CONFIRM_CARD, subject=apply.subject(app), now=ctx.now,
                      **apply.summary(ctx.session, ctx.settings, app))


def on_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
    """A message while in the apply dialog: an answer, or a file for the current material item."""
    try:
        app = apply.get(ctx.session, ctx.settings, int(conv.data.get("application_id", 0)))
    except NotFound:
        conversation.end(ctx.session, ctx.userid)
        raise
    if isinstance(inbound, Media):
        on_file(ctx, inbound, conv, app)
        return
    if not isinstance(inbound, Text):
        ctx.reply("common.unsupported", kind="")
        return
    pos = apply.answer(ctx.session, ctx.settings, app, conv, inbound.content, actor=ctx.userid, now=ctx.now)
    apply.prompt(ctx.session, ctx.settings, app, pos, ctx.userid, ctx.now)


def on_file(ctx: Context, media: Media, conv: Conversation, app: Application) -> None:
    """Queue the download of a chat attachment for the current item (done by the sender, not here)."""
    if media.media_type not in FILE_TYPES:
        ctx.reply("apply.media_unsupported", media_type=media.media_type)
        return
    item_key = conv.data.get("item") if conv.step == apply.Step.MATERIAL else None
    if not item_key:
        ctx.reply("apply.file_not_now", step=conv.step)
        return
    apply.require_editable(ctx.session, ctx.settings, app, ctx.now)
    notices.fetch_media(ctx.session, ctx.userid, media_id=media.media_id, purpose=PURPOSE, now=ctx.now,
                        filename=media.filename, **intake.Target("material", app.id, item_key).data())
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
    app = apply.get(ctx.session, ctx.settings, int(app_id))
    if action == "confirm":
        apply.submit(ctx.session, ctx.settings, app, actor=ctx.userid, now=ctx.now)
        conversation.end(ctx.session, ctx.userid)
    elif action != "recheck":
        ctx.reply("common.card_unknown")
        return
    notices.update_card(ctx.session, task, CONFIRM_CARD, response_code=event.response_code, now=ctx.now,
                        **apply.summary(ctx.session, ctx.settings, app), decided=action)
    if action == "recheck":
        show_progress(ctx, app)


def parse_until(text: str, settings: Settings, now: dt.datetime) -> dt.datetime:
    """A new deadline as typed (a date alone is the end of that day), as UTC."""
    return dates.parse_when(text, settings.award.tz, now=now)


def on_extend(ctx: Context, args: str) -> None:
    """延期 <编号|信用代码|全部> <日期> [时间] [原因]: extend the application deadline (secretariat)."""
    parts = args.split()
    if len(parts) < 2:
        raise InvalidInput("bad_extend_command")
    target, rest = parts[0], parts[1:]
    when = rest.pop(0)
    if rest and re.fullmatch(r"\d{1,2}:\d{2}", rest[0]):
        when += " " + rest.pop(0)
    until = parse_until(when, ctx.settings, ctx.now)
    number = None if target in ("全部", "all") else target
    reason = " ".join(rest)
    if number is None:
        # Everyone's deadline: say what will happen and wait for 确认 (bot/confirm.py).
        current = apply.check_extension(ctx.session, ctx.settings, until=until)
        confirm.ask(ctx, "extend_all", subject=f"stage:{apply.STAGE}",
                    params={"until": until.isoformat(), "reason": reason},
                    until=until, current=current, reason=reason,
                    stage_name=ctx.settings.award.stage(apply.STAGE).name,
                    unsubmitted=apply.unsubmitted_count(ctx.session, ctx.settings))
        return
    new, app = apply.extend_deadline(ctx.session, ctx.settings, until=until, actor=ctx.userid, now=ctx.now,
                                     number=number, reason=reason)
    ctx.reply("apply.extended", deadline=new, number=(app.number or app.enterprise_name or "") if app else "",
              everyone=app is None)


def on_extend_confirmed(ctx: Context, params: dict) -> None:
    """确认 on the 延期 全部 card: extend for everyone (audited); everyone concerned is told."""
    new, _ = apply.extend_deadline(ctx.session, ctx.settings, until=dt.datetime.fromisoformat(params["until"]),
                                   actor=ctx.userid, now=ctx.now, reason=params.get("reason", ""))
    ctx.reply("apply.extended", deadline=new, number="", everyone=True)


def register(router: Router) -> None:
    """Register the applicant's words, dialog, card and the secretariat's 延期."""
    router.command("申报", verbs=("apply.start",), order=10)(on_apply)
    router.command("进度", verbs=("apply.edit",), order=11)(on_progress)
    router.command("提交", verbs=("apply.submit",), order=12)(on_submit)
    router.command("延期", verbs=("apply.extend",), order=60)(on_extend)
    router.confirmed("extend_all")(on_extend_confirmed)
    router.flow(apply.FLOW)(on_flow)
    router.card("apply:")(on_card)
    router.menu("apply", "申报")
    router.menu("progress", "进度")
    previous = router.events.get("enter_agent")

    @router.event("enter_agent")
    def on_enter(ctx: Context, event: Event) -> None:
        # Entering the app resumes an unfinished application; everyone else gets the usual welcome.
        app = apply.get_for_applicant(ctx.session, ctx.settings, ctx.userid) if ctx.person is None else None
        if app is not None and app.status in (AppStatus.DRAFT, AppStatus.RETURNED) and ctx.conversation() is None:
            on_apply(ctx)
        elif previous is not None:
            previous(ctx, event)
