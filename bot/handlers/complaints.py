"""Chat for complaints: the guided intake (`投诉`), evidence files, and the secretariat's conclusions."""
from __future__ import annotations



import datetime as dt
from typing import Any

from workflows.publicity import channels, complaints
from workflows.core import conversation, dates, notices
from workflows.publicity.complaints import Step
from workflows.core.errors import InvalidInput
from workflows.core.models import Conversation
from workflows.core.settings import Settings

from .. import confirm
from ..media import PURPOSE
from workflows import intake
from ..router import Context, Router
from ..wecom.inbound import Inbound, Media, Text

UPHELD_WORDS = {"成立": True, "不成立": False}
VIA_WORDS = {"来信": "letter", "信件": "letter", "来电": "call", "电话": "call", "来访": "visit"}
SCAN_FLOW = "complaint_scan"   # the secretariat sends scans of a registered letter, call notes, visit papers
OUTCOME_WORDS = {"取消": "remove", "撤销": "remove", "保留": "keep"}
# Who takes an emptied place is the committee's decision (`替补决定`, the chair), never the secretariat's.
COMMITTEE_WORDS = ("替补", "递补", "空缺")


def evidence_rules(settings: Settings) -> dict[str, object]:
    """Allowed kinds and size for evidence files, as template data."""
    r = settings.award.rules
    return {"kinds": list(r.complaint_evidence_kinds), "max_mb": r.complaint_evidence_max_mb}


def _text(inbound: Inbound) -> str | None:
    return inbound.content.strip() if isinstance(inbound, Text) else None


def parse_conclusion(args: str) -> tuple[str, bool, str | None, str, str]:
    """`TS2018-001 成立 取消 核查情况｜理由` → (number, upheld, outcome, findings, reason); 替补/空缺 are the committee's."""
    parts = args.split(maxsplit=2)
    if len(parts) < 3 or parts[1] not in UPHELD_WORDS:
        raise InvalidInput("publicity_usage")
    number, upheld, rest = parts[0], UPHELD_WORDS[parts[1]], parts[2]
    outcome = None
    first, _, tail = rest.partition(" ")
    if first in COMMITTEE_WORDS:
        raise InvalidInput("complaint_place_for_committee")
    if first in OUTCOME_WORDS:
        outcome, rest = OUTCOME_WORDS[first], tail
    for sep in ("｜", "|"):
        if sep in rest:
            findings, _, reason = rest.partition(sep)
            return number, upheld, outcome, findings.strip(), reason.strip()
    return number, upheld, outcome, rest.strip(), rest.strip()


def parse_registration(args: str, settings: Settings, now: dt.datetime) -> dict[str, object]:
    """`来信 2019-02-03 SG2018-001 张三 13800138000 内容…` (or `… SG2018-001 匿名 内容…`) as register_offline's
    arguments; the application is still a number here."""
    parts = args.split(maxsplit=4)
    if len(parts) < 4 or parts[0] not in VIA_WORDS:
        raise InvalidInput("complaint_register_usage")
    via, day_text, ref, who = parts[0], parts[1], parts[2], parts[3]
    rest = parts[4] if len(parts) > 4 else ""
    try:
        received = dates.parse_day(day_text, settings.award.tz, now=now)
    except dates.UnreadableTime:
        raise InvalidInput("complaint_register_usage") from None
    if who == complaints.ANONYMOUS_WORD:
        return {"via": VIA_WORDS[via], "received_on": received, "ref": ref, "anonymous": True, "real_name": "",
                "phone": "", "content": rest}
    phone, _, content = rest.partition(" ")
    return {"via": VIA_WORDS[via], "received_on": received, "ref": ref, "anonymous": False, "real_name": who,
            "phone": phone, "content": content}


def register(router: Router) -> None:
    """Register `投诉`, its flow, `投诉列表`, `登记投诉` (with its scans) and `核查`."""

    @router.command("登记投诉", verbs=("complaints.register",), order=61)
    def on_register(ctx: Context, args: str) -> None:
        s, st = ctx.session, ctx.settings
        parsed = parse_registration(args, st, ctx.now)
        from workflows import publicity
        [app_id] = publicity.application_ids(s, st, [str(parsed.pop("ref"))])
        draft = channels.register_offline(s, st, actor=ctx.userid, now=ctx.now, application_id=app_id, **parsed)
        c = complaints.lodge(s, st, draft, now=ctx.now)
        conversation.start(s, ctx.userid, SCAN_FLOW, "evidence", now=ctx.now, complaint_id=c.id)
        ctx.reply("complaint.registered", complaint=complaints.complaint_data(s, c), complaint_id=c.id,
                  **evidence_rules(st))

    @router.flow(SCAN_FLOW)
    def on_scan(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
        complaint_id = int(conv.data["complaint_id"])
        if isinstance(inbound, Media):
            notices.fetch_media(ctx.session, ctx.userid, media_id=inbound.media_id, purpose=PURPOSE, now=ctx.now,
                                filename=inbound.filename, **intake.Target("evidence", complaint_id).data())
            ctx.reply("complaint.evidence_queued", filename=inbound.filename)
            return
        if _text(inbound) == complaints.SKIP_WORD:
            conversation.end(ctx.session, ctx.userid)
            ctx.reply("complaint.scans_done")
            return
        ctx.reply("complaint.ask_scans", complaint_id=complaint_id, **evidence_rules(ctx.settings))

    @router.command("投诉", order=50)
    def on_complain(ctx: Context, args: str) -> None:
        choices = complaints.begin(ctx.session, ctx.settings, userid=ctx.userid, now=ctx.now)
        from workflows.publicity import notice as publicity
        pub = publicity.require(ctx.session, ctx.settings)
        ctx.reply("complaint.choose", choices=choices, **publicity.window_data(pub))

    @router.flow(complaints.FLOW)
    def on_step(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
        step, s, st = Step(conv.step), ctx.session, ctx.settings
        anonymous = st.award.rules.anonymous_complaints
        if step is Step.EVIDENCE and isinstance(inbound, Media):
            notices.fetch_media(s, ctx.userid, media_id=inbound.media_id, purpose=PURPOSE, now=ctx.now,
                                filename=inbound.filename,
                                **intake.Target("evidence", int(conv.data["complaint_id"])).data())
            ctx.reply("complaint.evidence_queued", filename=inbound.filename)
            return
        text = _text(inbound)
        if text is None:
            ctx.reply("complaint.not_text")
            return
        if step is Step.TARGET:
            target = complaints.choose_target(s, st, conv, text, now=ctx.now)
            ctx.reply("complaint.ask_content", target=target)
        elif step is Step.CONTENT:
            complaints.set_content(s, st, conv, text, now=ctx.now)
            ctx.reply("complaint.ask_evidence", complaint_id=conv.data["complaint_id"], **evidence_rules(st))
        elif step is Step.EVIDENCE:
            if text != complaints.SKIP_WORD:
                ctx.reply("complaint.ask_evidence", complaint_id=conv.data["complaint_id"], **evidence_rules(st))
                return
            complaints.evidence_done(s, st, conv, now=ctx.now)
            ctx.reply("complaint.ask_name", anonymous=anonymous)
        elif step is Step.NAME:
            is_anonymous = complaints.set_name(s, st, conv, text, now=ctx.now)
            ctx.reply("complaint.ask_phone", anonymous=is_anonymous)
        elif step is Step.PHONE:
            c = complaints.submit(s, st, conv, text, now=ctx.now)
            ctx.reply("complaint.submitted", number=c.number)

    @router.command("投诉列表", verbs=("complaints.conclude",), order=61)
    def on_list(ctx: Context, args: str) -> None:
        rows = complaints.listing(ctx.session, ctx.settings)
        ctx.reply("complaint.list", complaints=[complaints.complaint_data(ctx.session, c) for c in rows])

    @router.command("核查", verbs=("complaints.conclude",), order=62)
    def on_conclude(ctx: Context, args: str) -> None:
        number, upheld, outcome, findings, reason = parse_conclusion(args)
        c = complaints.check_concludable(ctx.session, ctx.settings, number=number, upheld=upheld, findings=findings,
                                         reason=reason, outcome=outcome)
        confirm.ask(ctx, "conclude", subject=f"complaint:{c.number}",
                    params={"number": c.number, "upheld": upheld, "outcome": outcome, "findings": findings,
                            "reason": reason},
                    complaint=complaints.complaint_data(ctx.session, c), upheld=upheld,
                    outcome=outcome or ("keep" if not upheld else None), findings=findings, reason=reason)

    @router.confirmed("conclude")
    def on_conclude_confirmed(ctx: Context, params: dict[str, Any]) -> None:
        c = complaints.conclude(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, number=params["number"],
                                upheld=bool(params["upheld"]), findings=params["findings"], reason=params["reason"],
                                outcome=params.get("outcome"))
        ctx.reply("complaint.concluded_ok", complaint=complaints.complaint_data(ctx.session, c))
