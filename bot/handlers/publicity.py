"""Chat for the public notice, the verification report, the approval and the award; channel texts to files."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workflows import publicity
from workflows.core import access, dates, notices, placeholders
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.documents.filetypes import AllowedTypes
from workflows.publicity import places, publication
from workflows.core.settings import Settings

from .. import approval as approval_files
from .. import confirm
from ..render import Renderer
from ..router import Context, Router

PLACE_WORDS = {"保留": "keep", "替补": "replace", "递补": "replace", "空缺": "vacant", "投票": "vote", "重新投票": "vote"}
PAID_WORDS = {"已发放": "paid", "已支付": "paid", "paid": "paid", "未发放": "pending", "pending": "pending"}


def publications_dir(settings: Settings) -> Path:
    """Where notice texts and reports are written (config, else "notices" beside the document store)."""
    configured = settings.storage.publications_dir
    return Path(configured) if configured else Path(settings.storage.dir).parent / "notices"


def write_channel_texts(renderer: Renderer, settings: Settings, what: str, data: dict[str, Any],
                        out: Path | None = None) -> list[Path]:
    """Render templates/notices/<what>/<channel>.md.j2 for every configured channel into files."""
    out = out or publications_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for channel in settings.award.rules.publicity_channels:
        path = out / f"{settings.award.edition_key}-{what}-{channel}.md"
        path.write_text(renderer.text(f"notices/{what}/{channel}.md.j2", **data) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def write_report(renderer: Renderer, settings: Settings, data: dict[str, Any], out: Path | None = None) -> list[Path]:
    """Render the verification report to Markdown and HTML files."""
    out = out or publications_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("md", "html"):
        path = out / f"{settings.award.edition_key}-verification.{ext}"
        path.write_text(renderer.text(f"reports/verification.{ext}.j2", r=data) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def start(session: Session, settings: Settings, renderer: Renderer, *, actor: str, now: dt.datetime,
          out: Path | None = None, accept_late: bool = False) -> tuple[publicity.Publicity, list[Path]]:
    """Start the notice of the committee's result and write the per-channel texts (chat, CLI and the sample);
    `accept_late`: the operator confirmed a window that ends after the stage's deadline."""
    pub = publicity.start_publicity(session, settings, actor=actor, now=now, accept_late=accept_late)
    return pub, write_channel_texts(renderer, settings, "publicity", publicity.notice_data(session, settings), out)


def announce(session: Session, settings: Settings, renderer: Renderer, *, actor: str, now: dt.datetime,
             out: Path | None = None) -> tuple[list[Any], list[Path]]:
    """Announce the award and write the per-channel announcement texts."""
    records = publicity.announce(session, settings, actor=actor, now=now)
    return records, write_channel_texts(renderer, settings, "award", publicity.announcement_data(session, settings), out)


def send_report(session: Session, settings: Settings, renderer: Renderer, *, actor: str, now: dt.datetime,
                out: Path | None = None) -> tuple[dict[str, Any], list[Path]]:
    """Send the verification report to the committee and write it to files."""
    data = publicity.send_report(session, settings, actor=actor, now=now)
    return data, write_report(renderer, settings, data, out)


def write_package(session: Session, settings: Settings, renderer: Renderer, *, now: dt.datetime, fmt: str,
                  out: Path | None = None) -> tuple[dict[str, Any], Path]:
    """Render the approval package (评选情况报告) in one format to `out` (a file; default: the publications dir)."""
    data = publicity.package_data(session, settings, now=now)
    path = out or publications_dir(settings) / approval_files.file_name(settings, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(approval_files.render(renderer, data, fmt))
    return data, path


def record_approval(session: Session, settings: Settings, renderer: Renderer, *, actor: str, now: dt.datetime,
                    approved_on: dt.date, document_number: str, approved: list[int],
                    out: Path | None = None, accept_late: bool = False) -> tuple[publicity.Approval, list[Path]]:
    """Record the city government's approval, then write the package that goes with it (every format) and
    record its digest and file hashes in the audit (used by chat and CLI)."""
    row = publicity.record_approval(session, settings, actor=actor, now=now, approved_on=approved_on,
                                    document_number=document_number, approved=approved, accept_late=accept_late)
    data = publicity.package_data(session, settings, now=now)
    paths = approval_files.write(renderer, settings, data, out or publications_dir(settings))
    publicity.attach_package(session, settings, actor=actor, now=now, data=data,
                             files={p.name: approval_files.sha256(p) for p in paths.values()})
    return row, list(paths.values())


def parse_approval(args: str, settings: Settings, now: dt.datetime) -> tuple[dt.date, str, list[str]]:
    """`2019-03-20 韶府函〔2019〕12号 SG2018-001,SG2018-002` → (date, document number, refs)."""
    parts = args.split()
    if len(parts) < 3:
        raise InvalidInput("publicity_usage")
    day = dates.parse_day(parts[0], settings.award.tz, now=now)
    refs = [r for p in parts[2:] for r in p.replace("，", ",").replace("、", ",").split(",") if r]
    return day, parts[1], refs


def register(router: Router) -> None:
    """Register the publicity, approval and award chat words."""

    def renderer(ctx: Context) -> Renderer:
        return ctx.services["renderer"]

    @router.command("公示", order=60)
    def on_publicity(ctx: Context, args: str) -> None:
        if args == "开始":
            if not access.allows("publicity.manage", ctx.role):
                ctx.reply("common.not_for_role", word="公示 开始", role=ctx.role)
                return
            # Ask only after the same checks passed: a notice already started, no committee result, example contacts.
            if publicity.current(ctx.session, ctx.settings) is not None:
                raise AlreadyDone("publicity_already_started")
            placeholders.require_real_contacts(ctx.settings, action="publicity")
            winners, _ = publicity.proposed(ctx.session, ctx.settings)
            rules = ctx.settings.award.rules
            win = publicity.planned_window(ctx.session, ctx.settings, ctx.now)
            late = publicity.runs_past_deadline(ctx.session, ctx.settings, win)
            confirm.ask(ctx, "publicity_start", subject=f"publicity:{ctx.settings.award.edition_key}",
                        params={"accept_late": bool(late)},
                        winners=[publicity.describe(ctx.session, i) for i in winners], days=rules.publicity_days,
                        last_day=win.last_day.isoformat(), late=late)
            return
        if args.startswith("刊登") and access.allows("publicity.manage", ctx.role):
            _record_media(ctx, "publicity", args[2:])
            return
        if args and access.allows("publicity.manage", ctx.role):
            ctx.reply("publicity.usage")
            return
        v = publicity.view(ctx.session, ctx.settings, now=ctx.now)
        pub = publicity.require(ctx.session, ctx.settings)
        ctx.reply("publicity.status", state=str(v.state), winners=list(v.winners), removed=list(v.removed),
                  report_sent=v.report_sent, **publicity.window_data(pub),
                  places=[places.decision_data(ctx.session, d) for d in places.decisions(ctx.session, ctx.settings)])

    @router.confirmed("publicity_start")
    def on_publicity_start(ctx: Context, params: dict[str, Any]) -> None:
        pub, files = start(ctx.session, ctx.settings, renderer(ctx), actor=ctx.userid, now=ctx.now,
                           accept_late=bool(params.get("accept_late")))
        ctx.reply("publicity.started_ok", files=[str(f) for f in files], winners=list(pub.winners),
                  **publicity.window_data(pub))

    @router.command("替补决定", verbs=("committee.decide",), order=67)
    def on_place(ctx: Context, args: str) -> None:
        parts = args.split(maxsplit=2)
        if len(parts) < 3 or parts[1] not in PLACE_WORDS:
            raise InvalidInput("place_usage")
        shown = places.check_decidable(ctx.session, ctx.settings, parts[0], PLACE_WORDS[parts[1]], parts[2])
        confirm.ask(ctx, "place_decision", subject=f"place:{shown['number']}",
                    params={"number": shown["number"], "decision": shown["decision"], "reason": shown["reason"]},
                    **shown)

    @router.confirmed("place_decision")
    def on_place_confirmed(ctx: Context, params: dict[str, Any]) -> None:
        row = places.decide(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                            complaint_number=params["number"], decision=params["decision"], reason=params["reason"])
        ctx.reply("publicity.place_decided_ok", place=places.decision_data(ctx.session, row))

    @router.command("核查报告", verbs=("publicity.manage",), order=63)
    def on_report(ctx: Context, args: str) -> None:
        data, files = send_report(ctx.session, ctx.settings, renderer(ctx), actor=ctx.userid, now=ctx.now)
        ctx.reply("publicity.report_sent", complaints=len(data["complaints"]), upheld=data["upheld"],
                  files=[str(f) for f in files])

    @router.command("审批", verbs=("award.manage",), order=64)
    def on_approval(ctx: Context, args: str) -> None:
        day, number, refs = parse_approval(args, ctx.settings, ctx.now)
        ids = publicity.application_ids(ctx.session, ctx.settings, refs)
        late = publicity.approval_late(ctx.session, ctx.settings, ctx.now)
        if late:   # after the stage's deadline: every other check first (rolled back), then ask
            trial = ctx.session.begin_nested()
            try:
                publicity.record_approval(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, approved_on=day,
                                          document_number=number, approved=ids, accept_late=True)
            finally:
                trial.rollback()
            confirm.ask(ctx, "approval_late", subject=f"approval:{ctx.settings.award.edition_key}",
                        params={"day": day.isoformat(), "number": number, "ids": ids},
                        document_number=number, approved_on=day.isoformat(), deadline=late["deadline"],
                        winners=[publicity.describe(ctx.session, i) for i in ids])
            return
        _approve(ctx, day, number, ids, accept_late=False)

    @router.confirmed("approval_late")
    def on_approval_late(ctx: Context, params: dict[str, Any]) -> None:
        _approve(ctx, dt.date.fromisoformat(params["day"]), params["number"], [int(i) for i in params["ids"]],
                 accept_late=True)

    def _approve(ctx: Context, day: dt.date, number: str, ids: list[int], *, accept_late: bool) -> None:
        row, files = record_approval(ctx.session, ctx.settings, renderer(ctx), actor=ctx.userid, now=ctx.now,
                                     approved_on=day, document_number=number, approved=ids, accept_late=accept_late)
        ctx.reply("publicity.approval_ok", document_number=row.document_number, approved_on=row.approved_on,
                  winners=[publicity.describe(ctx.session, i) for i in row.approved], files=[str(f) for f in files])

    @router.command("评选情况报告", verbs=("award.manage",), order=64)
    def on_package(ctx: Context, args: str) -> None:
        """The approval package as a Word file in chat, with what is still missing if the edition is not done."""
        data = publicity.package_data(ctx.session, ctx.settings, now=ctx.now)
        content = approval_files.render(renderer(ctx), data, "docx")
        name = approval_files.file_name(ctx.settings, "docx")
        stored = ctx.services["documents"].store(io.BytesIO(content), original_name=name,
                                                 allowed=AllowedTypes.from_config(["docx"]), max_bytes=len(content))
        ctx.reply("publicity.package_sent", complete=data["complete"], gaps=data["gaps"], proposed=data["proposed"],
                  approval=data["approval"])
        notices.send_file(ctx.session, ctx.userid, sha256=stored.sha256, filename=name, now=ctx.now)

    def _record_media(ctx: Context, what: str, rest: str) -> None:
        """`公示 刊登 门户网站 2019-02-01 [链接]` / `表彰 刊登 …`: one channel's publication, then the log."""
        words = rest.split()
        if len(words) < 2:
            raise InvalidInput("media_usage", word="公示" if what == "publicity" else "表彰",
                               channels=list(publication.channel_names(ctx.settings).values()))
        names = publication.channel_names(ctx.settings)
        key = next((k for k, n in names.items() if words[0] in (k, n)), words[0])
        try:
            day = dates.parse_day(words[1], ctx.settings.award.tz, now=ctx.now)
        except dates.UnreadableTime:
            raise InvalidInput("media_usage", word="公示" if what == "publicity" else "表彰",
                               channels=list(names.values())) from None
        publication.record_publication(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, what=what,
                                       channel=key, published_on=day, link=words[2] if len(words) > 2 else "")
        ctx.reply("publicity.media_recorded", what=what, log=publication.by_channel(ctx.session, ctx.settings, what))

    @router.command("表彰", verbs=("award.manage",), order=65)
    def on_award(ctx: Context, args: str) -> None:
        if args.startswith("刊登"):
            _record_media(ctx, "award", args[2:])
            return
        if args:
            ctx.reply("publicity.usage")
            return
        records, files = announce(ctx.session, ctx.settings, renderer(ctx), actor=ctx.userid, now=ctx.now)
        ctx.reply("award.announced_ok", count=len(records), files=[str(f) for f in files])

    @router.command("奖金", verbs=("award.manage",), order=66)
    def on_payment(ctx: Context, args: str) -> None:
        parts = args.split(maxsplit=2)
        if len(parts) >= 2 and parts[1] == "更正":
            _ask_correction(ctx, parts[0], parts[2] if len(parts) > 2 else "")
            return
        if len(parts) < 2 or parts[1] not in PAID_WORDS:
            raise InvalidInput("award_bad_payment_status")
        rec = publicity.set_payment(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, ref=parts[0],
                                status=PAID_WORDS[parts[1]], reference=parts[2] if len(parts) > 2 else "")
        ctx.reply("award.payment_ok", winner=publicity.describe(ctx.session, rec.application_id),
                  status=rec.payment_status, prize_yuan=rec.prize_yuan)

    def _ask_correction(ctx: Context, ref: str, rest: str) -> None:
        """`奖金 SG2018-002 更正 新凭证号 原因`: a recorded payment is corrected only after a confirmation."""
        reference, _, reason = rest.partition(" ")
        rec = publicity.find_record(ctx.session, ctx.settings, ref)
        winner = publicity.describe(ctx.session, rec.application_id)
        if not reference or not reason.strip():
            raise InvalidInput("award_payment_replace_no_reason", number=winner["number"])
        publicity.check_payment(ctx.session, ctx.settings, ref=ref, status="paid", reference=reference,
                                replace_reason=reason)
        confirm.ask(ctx, "payment_correct", subject=f"application:{rec.application_id}",
                    params={"ref": winner["number"], "reference": reference, "reason": reason.strip()},
                    winner=winner, old_reference=rec.payment_reference or "", reference=reference,
                    reason=reason.strip())

    @router.confirmed("payment_correct")
    def on_payment_correct(ctx: Context, params: dict[str, Any]) -> None:
        rec = publicity.set_payment(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, ref=params["ref"],
                                    status="paid", reference=params["reference"], replace_reason=params["reason"])
        ctx.reply("award.payment_corrected_ok", winner=publicity.describe(ctx.session, rec.application_id),
                  reference=rec.payment_reference or "", prize_yuan=rec.prize_yuan)
