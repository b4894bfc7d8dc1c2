"""CLI: `approval record|package` (报市政府审批) and `award announce|pay|issue|certificates|feedback|status|publish|log` (表彰奖励)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import click

from workflows import publicity
from workflows.core.errors import AlreadyDone

from .. import approval as approval_files
from .. import certificates as certificate_files
from .. import feedback as feedback_files
from . import base
from .publicity import ACTOR_OPT, NOW_OPT, VIEW_OPT, publish_command


def _ids(rt: Any, s: Any, csv: str) -> list[int]:
    refs = [r for r in csv.replace("，", ",").split(",") if r.strip()]
    return publicity.application_ids(s, rt.settings, refs)


def register(main: click.Group) -> None:
    """Add the approval and award command groups."""
    from ..handlers import publicity as ph

    @main.group("approval")
    def approval_group() -> None:
        """The city government's approval (报市政府审批)."""

    @approval_group.command("record")
    @click.option("--date", "day", required=True, help="Date of the approval document (YYYY-MM-DD).")
    @click.option("--document", required=True, help="Document number, e.g. 韶府函〔2019〕12号.")
    @click.option("--approved", required=True, help="Approved application numbers, comma separated.")
    @click.option("--yes", is_flag=True, help="Record it even after the approval stage's deadline (asked "
                  "otherwise).")
    @ACTOR_OPT
    @NOW_OPT
    @click.pass_obj
    def approval_record(obj: Any, day: str, document: str, approved: str, yes: bool, actor: str,
                        now: str | None) -> None:
        """Record the approval (after the notice; after the stage's deadline only when confirmed); nothing is
        announced before it."""
        rt = obj.runtime
        approved_on = base.day(rt, day, "--date")

        def trial(s: Any, when: dt.datetime) -> dict[str, Any] | None:
            """Every refusal first (rolled back); then whether it is late."""
            late = publicity.approval_late(s, rt.settings, when)
            publicity.record_approval(s, rt.settings, actor=actor, now=when, approved_on=approved_on,
                                      document_number=document, approved=_ids(rt, s, approved), accept_late=True)
            return late
        base.acting_time(obj, now)   # a --now this deployment refuses is refused before anything else
        late = base.run(obj, trial, now, changes=False)
        if late and not yes:
            click.echo("warning: " + base.one_line(rt.renderer.text(
                "messages/errors/approval_past_deadline.md.j2", **late, to="prompt")), err=True)
            if not click.confirm("record the approval anyway?", default=False):
                click.echo("nothing was changed", err=True)
                raise SystemExit(1)

        def go(s: Any, when: dt.datetime) -> str:
            row, files = ph.record_approval(s, rt.settings, rt.renderer, actor=actor, now=when,
                                            approved_on=approved_on, document_number=document,
                                            approved=_ids(rt, s, approved), accept_late=bool(late))
            return "\n".join([f"approval recorded: {row.document_number} ({row.approved_on}) "
                               f"{len(row.approved)} winners", *(f"  wrote {f}" for f in files)])
        click.echo(base.run(obj, go, now))

    @approval_group.command("package")
    @click.option("--format", "fmt", type=click.Choice(approval_files.FORMATS), default="md", show_default=True)
    @click.option("--out", type=base.OUT_FILE, default=None,
                  help="The file to write (default: <edition>-approval.<format> in the publications directory).")
    @VIEW_OPT
    @click.pass_obj
    def approval_package(obj: Any, fmt: str, out: str | None, now: str | None) -> None:
        """Write the 评选情况报告 to the city government: process, ranking, vote, notice and complaints."""
        rt = obj.runtime
        if now and out is None and not rt.settings.server.time_travel:
            base.bad_argument(f"--now {now}: a package as of another time is a preview — give --out FILE (the "
                              "publications directory keeps the package of record); nothing was written")

        def go(s: Any, when: dt.datetime) -> tuple[dict[str, Any], Path]:
            return ph.write_package(s, rt.settings, rt.renderer, now=when, fmt=fmt, out=Path(out) if out else None)
        data, path = base.run(obj, go, now, changes=False)
        click.echo(f"wrote {path}")
        if not data["complete"]:
            click.echo("draft, not the edition's result: " + rt.renderer.text(
                "messages/publicity/package_gaps.md.j2", gaps=data["gaps"]), err=True)

    @main.group("award")
    def award_group() -> None:
        """The award (表彰奖励): announcement and prize payments."""

    publish_command(award_group, "award", "award announcement")

    @award_group.command("announce")
    @click.option("--out", type=base.OUT_DIR, default=None)
    @ACTOR_OPT
    @NOW_OPT
    @click.pass_obj
    def award_announce(obj: Any, out: str | None, actor: str, now: str | None) -> None:
        """Announce the approved winners, congratulate them, open their award records."""
        rt = obj.runtime

        def go(s: Any, when: dt.datetime) -> tuple[int, list[Path]]:
            records, files = ph.announce(s, rt.settings, rt.renderer, actor=actor, now=when,
                                         out=Path(out) if out else None)
            return len(records), files
        count, files = base.run(obj, go, now)
        click.echo(f"announced {count} winners")
        for f in files:
            click.echo(f"  wrote {f}")

    @award_group.command("pay")
    @click.argument("application")
    @click.option("--status", type=click.Choice(publicity.PAYMENT_STATES), default="paid", show_default=True)
    @click.option("--reference", default="", help="Payment reference.")
    @click.option("--replace", is_flag=True, help="Correct a payment already recorded as paid (needs --reason; the "
                  "old reference stays in the audit).")
    @click.option("--reason", default=None, help="Why a recorded payment is corrected (with --replace).")
    @ACTOR_OPT
    @NOW_OPT
    @click.pass_obj
    def award_pay(obj: Any, application: str, status: str, reference: str, replace: bool, reason: str | None,
                  actor: str, now: str | None) -> None:
        """Update a winner's prize payment status; a recorded payment is only corrected with --replace --reason."""
        if replace and not (reason or "").strip():
            base.bad_argument("--replace needs --reason \"why the recorded payment is corrected\"; nothing was changed")
        if reason is not None and not replace:
            base.bad_argument("--reason goes with --replace (correcting a payment already recorded); "
                              "nothing was changed")
        rt = obj.runtime

        def go(s: Any, when: dt.datetime) -> str:
            try:
                publicity.check_payment(s, rt.settings, ref=application, status=status, reference=reference,
                                        replace_reason=reason if replace else None)
            except AlreadyDone as exc:   # a second payment without --replace: the command line lacks it
                base.bad_argument(f"{exc.code}: {base.error_text(rt, exc)}")
            before = publicity.find_record(s, rt.settings, application)
            was_paid, old = before.payment_status == "paid", before.payment_reference
            rec = publicity.set_payment(s, rt.settings, actor=actor, now=when, ref=application, status=status,
                                        reference=reference, replace_reason=reason if replace else None)
            line = f"{application}: {rec.payment_status} {rec.prize_yuan} yuan"
            changed = (rec.payment_status, rec.payment_reference) != ("paid", old)
            return line + (f" (corrected; was {old or '-'}, kept in the audit)" if was_paid and changed else "")
        click.echo(base.run(obj, go, now))

    @award_group.command("issue")
    @click.argument("application")
    @click.option("--plaque", is_flag=True, help="The plaque (奖牌) was handed over.")
    @click.option("--certificate", is_flag=True, help="The certificate (证书) was handed over.")
    @click.option("--on", "day_text", default=None, help="The day (default: today).")
    @ACTOR_OPT
    @click.pass_obj
    def award_issue(obj: Any, application: str, plaque: bool, certificate: bool, day_text: str | None,
                    actor: str) -> None:
        """Record that a winner's plaque and/or certificate was handed over (once each; audited)."""
        if not (plaque or certificate):
            base.bad_argument("give --plaque, --certificate or both; nothing was changed")
        rt = obj.runtime
        day = base.day(rt, day_text, "--on") if day_text else None
        items = [i for i, on in (("plaque", plaque), ("certificate", certificate)) if on]

        def go(s: Any, when: dt.datetime) -> str:
            rec = publicity.record_issue(s, rt.settings, actor=actor, now=when, ref=application, items=items,
                                         issued_on=day or when.astimezone(rt.settings.award.tz).date())
            return (f"{application}: plaque {rec.plaque_issued_on or 'not yet'}, "
                    f"certificate {rec.certificate_issued_on or 'not yet'}")
        click.echo(base.run(obj, go))

    @award_group.command("certificates")
    @click.option("--out", type=base.OUT_DIR, default=None, help="Write every certificate (Word, HTML) here.")
    @ACTOR_OPT
    @NOW_OPT
    @click.pass_obj
    def award_certificates(obj: Any, out: str | None, actor: str, now: str | None) -> None:
        """Number a 证书 for every announced winner without one; with --out, write them all."""
        rt = obj.runtime

        def go(s: Any, when: dt.datetime) -> list[dict[str, Any]]:
            try:
                new = publicity.certificates.issue(s, rt.settings, actor=actor, now=when)
            except AlreadyDone:
                new = []
            for c in new:
                click.echo(f"issued {c.number}  {publicity.describe(s, c.application_id)['name']}")
            return [publicity.certificates.data(s, rt.settings, c.number)
                    for c in publicity.certificates.issued(s, rt.settings)]
        every = base.run(obj, go, now)
        if not out:
            click.echo(f"{len(every)} certificates issued in all")
            return
        for path in certificate_files.write(rt.renderer, every, Path(out)):
            click.echo(f"  wrote {path}")

    @award_group.command("feedback")
    @click.option("--hold", default="", help="Application numbers to hold back for now (comma-separated).")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
    @ACTOR_OPT
    @NOW_OPT
    @click.pass_obj
    def award_feedback(obj: Any, hold: str, yes: bool, actor: str, now: str | None) -> None:
        """After the approval: send each applicant whose material review is complete its 反馈报告 in chat, once."""
        rt = obj.runtime
        base.acting_time(obj, now)                 # a bad --now is one line before anything is read
        holds = [h.strip().upper() for h in hold.replace("，", ",").split(",") if h.strip()]
        prefix = rt.settings.award.application.number_prefix.upper()
        bad = [h for h in holds if not re.fullmatch(rf"{re.escape(prefix)}-\d{{3,}}", h)]
        if bad:
            base.bad_argument(f"--hold {','.join(bad)}: not application numbers like {prefix}-001; nothing was sent")
        due = base.run(obj, lambda s, _w: [f"{a.number} {a.enterprise_name or ''}".strip()
                                           for a in publicity.feedback.due(s, rt.settings, holds)], changes=False)
        if not due:
            click.echo("every feedback report has been sent (except those held back); nothing to do")
            return
        click.echo(f"{len(due)} applicants will receive their feedback report in chat:")
        for line in due:
            click.echo(f"  {line}")
        if not yes and not click.confirm("send them now?", default=False):
            click.echo("nothing was sent")
            return

        def go(s: Any, when: dt.datetime) -> int:
            return len(feedback_files.release(s, rt.settings, rt.renderer, rt.services["documents"], actor=actor,
                                              now=when, holds=holds))
        click.echo(f"released {base.run(obj, go, now)} feedback reports")

    @award_group.command("status")
    @click.pass_obj
    def award_status(obj: Any) -> None:
        """Award records: prize payment, plaque and certificate."""
        def go(s: Any, when: dt.datetime) -> list[str]:
            numbers = {c.application_id: c.number for c in publicity.certificates.issued(s, obj.runtime.settings)}
            return [f"{publicity.describe(s, r.application_id)['number']}  {r.prize_yuan}  {r.payment_status}"
                    f"  {r.payment_reference or ''}  plaque {r.plaque_issued_on or '-'}"
                    f"  certificate {numbers.get(r.application_id, 'not numbered')} handed over "
                    f"{r.certificate_issued_on or '-'}" for r in publicity.records(s, obj.runtime.settings)]
        for line in base.run(obj, go):
            click.echo(line)
