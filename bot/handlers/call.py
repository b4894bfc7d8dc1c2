"""征集 (the call for applications: channel texts, publication log) and 培训 (sign-up card, attendance)."""
from __future__ import annotations

from pathlib import Path

from workflows import apply, call
from sqlalchemy import select

from workflows.apply.models import Application
from workflows.core import access, dates, notices
from workflows.core.errors import InvalidInput
from workflows.core.models import CardTask
from workflows.core.settings import Settings

from ..render import Renderer
from ..router import Context, Router
from ..wecom.inbound import CardEvent
from .publicity import publications_dir


def channel_key(settings: Settings, word: str) -> str:
    """A channel typed by its key (portal) or its configured name (韶关日报); "" if neither."""
    names = settings.award.call.channel_names
    for key in settings.award.call.channels:
        if word in (key, names.get(key)):
            return key
    return ""


def write_call_texts(renderer: Renderer, settings: Settings, data: dict, out: Path | None = None) -> list[Path]:
    """Render templates/notices/call/<channel>.md.j2 for every configured channel into files."""
    out = out or publications_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for channel in settings.award.call.channels:
        path = out / f"{settings.award.edition_key}-call-{channel}.md"
        path.write_text(renderer.text(f"notices/call/{channel}.md.j2", **data) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def signer(ctx: Context) -> dict[str, str]:
    """Who signs up, for which unit and area: a recommending unit from the roster, an enterprise from its application."""
    if ctx.person is not None:
        unit = ctx.person.organization or ctx.person.region
        return {"name": ctx.person.name, "unit": unit, "area": ctx.person.region or ctx.person.organization}
    app = apply.get_for_applicant(ctx.session, ctx.settings, ctx.userid)
    if app is None:
        return {"name": ctx.known_name(), "unit": "", "area": ""}
    return {"name": app.contact_name or ctx.known_name(), "unit": app.enterprise_name or "",
            "area": apply.unit_name(ctx.settings, app) if (app.region_code or app.department) else ""}


def register(router: Router) -> None:
    """Register 征集, 培训 and the sign-up card."""

    @router.command("征集", verbs=("call.publish",), order=35)
    def on_call(ctx: Context, args: str) -> None:
        words = args.split()
        if not words:
            data = call.call_data(ctx.session, ctx.settings)
            files = write_call_texts(ctx.services["renderer"], ctx.settings, data)
            ctx.reply("call.status", files=[str(f) for f in files], log=_log(ctx),
                      channels=list(ctx.settings.award.call.channels), deadline=data["deadline"])
            return
        if words[0] != "发布" or len(words) < 3:
            ctx.reply("call.usage", channels=list(ctx.settings.award.call.channels))
            return
        key = channel_key(ctx.settings, words[1])
        if not key:
            raise InvalidInput("call_bad_channel", channel=words[1], channels=list(ctx.settings.award.call.channels),
                               names=dict(ctx.settings.award.call.channel_names))
        day = dates.parse_day(words[2], ctx.settings.award.tz, now=ctx.now)
        row = call.record_publication(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, channel=key,
                                      published_on=day, link=words[3] if len(words) > 3 else "")
        ctx.reply("call.recorded", channel=row.channel, day=row.published_on.isoformat(), link=row.link, log=_log(ctx))

    def _log(ctx: Context) -> list[dict]:
        return [{"channel": p.channel, "day": p.published_on.isoformat(), "link": p.link}
                for p in call.publications(ctx.session, ctx.settings)]

    @router.command("培训", verbs=("training.signup", "training.manage"), order=36)
    def on_training(ctx: Context, args: str) -> None:
        if access.allows("training.manage", ctx.role):
            _manage(ctx, args.split(maxsplit=3))
            return
        ev = call.require_event(ctx.session, ctx.settings)
        call.invite_card(ctx.session, ctx.settings, ev, ctx.userid, now=ctx.now)

    def _manage(ctx: Context, words: list[str]) -> None:
        s, settings = ctx.session, ctx.settings
        if not words or words[0] in ("状态", "统计"):
            ev = call.require_event(s, settings, managing=True)
            ctx.reply("training.report", **call.event_data(ev), rows=_rows(ctx),
                      signups=[{"name": r.name, "unit": r.unit, "area": r.area, "count": r.count,
                                "attended": r.attended} for r in call.signups(s, settings)])
        elif words[0] == "发布" and len(words) == 4:
            # 培训 发布 2026-09-25T09:30 地点 标题 — the time without a space: dates.parse_when reads both forms
            when = dates.parse_when(words[1].replace("T", " "), settings.award.tz, now=ctx.now)
            invite = list(s.scalars(select(Application.applicant).where(
                Application.edition == settings.award.edition_key).order_by(Application.id)))
            ev = call.announce(s, settings, actor=ctx.userid, now=ctx.now, starts_at=when, place=words[2],
                               title=words[3], invite=invite)
            ctx.reply("training.announced", **call.event_data(ev), invited=len(invite))
        elif words[0] == "签到" and len(words) >= 2:
            count = words[2] if len(words) > 2 else "1"
            if not count.isdigit():
                raise InvalidInput("training_bad_count", max=50)
            row = call.record_attendance(s, settings, actor=ctx.userid, now=ctx.now, userid=words[1], attended=int(count))
            ctx.reply("training.attended", name=row.name, unit=row.unit, attended=row.attended, count=row.count)
        else:
            ctx.reply("training.usage")

    def _rows(ctx: Context) -> list[dict]:
        return [vars(r) for r in call.attendance_report(ctx.session, ctx.settings)]

    @router.card("train:")
    def on_card(ctx: Context, event: CardEvent, rest: str) -> None:
        count, _, event_id = rest.partition(":")
        task = ctx.session.get(CardTask, event.task_id)
        if task is None or task.recipient != ctx.userid or not count.isdigit():
            ctx.reply("common.card_unknown")
            return
        ev = call.require_event(ctx.session, ctx.settings)
        if str(ev.id) != event_id:
            ctx.reply("common.card_unknown")
            return
        row = call.sign_up(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, count=int(count), **signer(ctx))
        notices.update_card(ctx.session, task, "training.invite", response_code=event.response_code, now=ctx.now,
                            close=False, chosen=row.count, **call.event_data(ev),
                            options=list(range(1, ctx.settings.award.call.training_signup_max + 1)))
        ctx.reply("training.signed_up", count=row.count, unit=row.unit, name=row.name, **call.event_data(ev))
