"""CLI: `publicity start|status`, `complaints list|conclude|report`, `approval record|package`, `award announce|pay`,
`archive --out FILE.zip`, `audit verify`."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from workflows import archive
from workflows import publicity
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.publicity import channels, places, publication

from .. import approval as approval_files
from . import base


def _ids(rt: Any, s: Any, csv: str) -> list[int]:
    refs = [r for r in csv.replace("，", ",").split(",") if r.strip()]
    return publicity.application_ids(s, rt.settings, refs)


def register(main: click.Group) -> None:
    """Add the publicity, complaints, approval, award, archive and audit command groups."""
    from ..handlers import publicity as ph

    now_opt = click.option("--now", default=None, help="Act as of this time (2019-02-01 10:00, 2019/2/1, 2月1日 …; a "
                           "date alone is 23:59:59); default: now. Where the command changes anything, only with "
                           "[server] time_travel on (the demo, a training copy).")
    view_opt = click.option("--now", default=None, help="Show it as of this time (2019-02-01 10:00, 2019/2/1, 2月1日 …); "
                            "default: now. Changes nothing.")
    actor_opt = click.option("--actor", default="cli", help="Who acts (audit log).")

    @main.group("publicity")
    def publicity_group() -> None:
        """Public notice (公示) of the proposed winners."""

    @publicity_group.command("start")
    @click.option("--out", type=base.OUT_DIR, default=None, help="Directory for the channel texts.")
    @click.option("--yes", is_flag=True, help="Start even if the window ends after the stage's deadline (asked "
                  "otherwise).")
    @actor_opt
    @now_opt
    @click.pass_obj
    def publicity_start(obj: Any, out: str | None, yes: bool, actor: str, now: str | None) -> None:
        """Publish the committee's proposed winners (its closed vote), tell the roster and the candidates, write
        the per-channel texts.  There is no other list to publish: winners come only from the committee.
        A window that would end after the publicity stage's deadline is warned of and confirmed first."""
        rt = obj.runtime

        def late_window(s: Any, when: dt.datetime) -> dict[str, Any] | None:
            """Every other refusal first (rolled back); then whether the window would end after the deadline."""
            try:
                publicity.start_publicity(s, rt.settings, actor=actor, now=when)
            except InvalidInput as exc:
                if exc.code != "publicity_window_past_deadline":
                    raise
                return dict(exc.data)
            return None
        base.acting_time(obj, now)   # a --now this deployment refuses is refused before anything else
        late = base.run(obj, late_window, now, changes=False)
        if late and not yes:
            click.echo("warning: " + base.one_line(rt.renderer.text(
                "messages/errors/publicity_window_past_deadline.md.j2", **late, to="prompt")), err=True)
            if not click.confirm("start the notice anyway?", default=False):
                click.echo("nothing was changed", err=True)
                raise SystemExit(1)

        def go(s: Any, when: dt.datetime) -> tuple[Any, list[Path]]:
            pub, files = ph.start(s, rt.settings, rt.renderer, actor=actor, now=when,
                                  out=Path(out) if out else None, accept_late=bool(late))
            return publicity.window_data(pub), files
        window, files = base.run(obj, go, now)
        click.echo(f"publicity open {window['start']} .. {window['last_day']} (end {window['end']})")
        for f in files:
            click.echo(f"  wrote {f}")

    @publicity_group.command("status")
    @view_opt
    @click.pass_obj
    def publicity_status(obj: Any, now: str | None) -> None:
        """The window, its state and the current proposed winners."""
        def go(s: Any, when: dt.datetime) -> Any:
            return publicity.view(s, obj.runtime.settings, now=when), [
                places.decision_data(s, d) for d in places.decisions(s, obj.runtime.settings)]
        v, referred = base.run(obj, go, now, changes=False)
        click.echo(f"{v.state}  {v.start.isoformat()} .. {v.last_day} (end {v.end.isoformat()})"
                   f"  report_sent={v.report_sent}")
        for i, w in enumerate(v.winners, 1):
            click.echo(f"  {i}. {w['number']} {w['name']}")
        for w in v.removed:
            click.echo(f"  removed: {w['number']} {w['name']}")
        for p in referred:
            what = (f"replaced by {p['replacement']['number']} (notice until {p['last_day']})" if p["replacement"]
                    else "waiting for the committee" if p["status"] == "pending"
                    else f"replacement vote (ballot {p['ballot_id']})" if p["status"] == "voting" else "vacant")
            click.echo(f"  place {p['position']} ({p['complaint']}): {what}")

    def publish_command(group: click.Group, what: str, noun: str) -> None:
        """`<group> publish CHANNEL --on DAY [--link URL]` and `<group> log` for the notice or the announcement."""

        @group.command("publish")
        @click.argument("channel")
        @click.option("--on", "day_text", required=True, help="The day it appeared there (2019-02-01, 2月1日 …).")
        @click.option("--link", default="", help="Where it can be read.")
        @actor_opt
        @click.pass_obj
        def publish(obj: Any, channel: str, day_text: str, link: str, actor: str) -> None:
            rt = obj.runtime
            names = publication.channel_names(rt.settings)
            key = next((k for k, n in names.items() if channel in (k, n)), channel)
            day = base.day(rt, day_text, "--on")
            base.run(obj, lambda s, when: publication.record_publication(
                s, rt.settings, actor=actor, now=when, what=what, channel=key, published_on=day, link=link))
            click.echo(f"recorded: {key} {day.isoformat()} {link}".rstrip())
        publish.help = f"Record the day the {noun} appeared on a channel (key or name) and its link; audited."

        @group.command("log")
        @click.pass_obj
        def log(obj: Any) -> None:
            rt = obj.runtime
            rows = base.run(obj, lambda s, _when: publication.by_channel(s, rt.settings, what), changes=False)
            for r in rows:
                if r["since"] is None:
                    click.echo(f"{r['channel']:10} {r['name']}  not yet published")
                    continue
                runs = f"  runs {r['days']} days" + (" — fewer than the rules ask" if r.get("short") else "") \
                    if "days" in r else ""
                click.echo(f"{r['channel']:10} {r['name']}  since {r['since']}{runs}  {r['link']}".rstrip())
        log.help = f"Where and since when the {noun} appeared, channel by channel."

    publish_command(publicity_group, "publicity", "public notice")

    @main.group("complaints")
    def complaints_group() -> None:
        """Complaints during the notice and their verification."""

    @complaints_group.command("list")
    @click.pass_obj
    def complaints_list(obj: Any) -> None:
        """Every complaint with its status."""
        def go(s: Any, when: dt.datetime) -> list[dict[str, Any]]:
            return [publicity.complaint_data(s, c) for c in publicity.listing(s, obj.runtime.settings)]
        for c in base.run(obj, go):
            verdict = {None: "pending", True: "upheld", False: "not upheld"}[c["upheld"]]
            click.echo(f"{c['number']}  {c['target']['number']} {c['target']['name']}  {c['status']}  {verdict}"
                       f"  evidence={len(c['evidence'])}")

    @complaints_group.command("register")
    @click.option("--via", type=click.Choice(channels.OFFLINE_VIAS), required=True,
                  help="How it came in: a letter, a phone call or a visit.")
    @click.option("--received", required=True, help="The day it was received (2019-02-03, 2月3日 …), inside the window.")
    @click.option("--enterprise", required=True, help="The application number of the enterprise complained about.")
    @click.option("--content", default=None, help="The facts and reasons (10–2000 characters).")
    @click.option("--content-file", type=click.Path(exists=True, dir_okay=False), default=None,
                  help="Read the facts from a UTF-8 text file instead (a transcribed letter or call note).")
    @click.option("--name", default="", help="The complainant's real name.")
    @click.option("--phone", default="", help="The complainant's phone.")
    @click.option("--anonymous", is_flag=True, help="No name or phone (only where the edition allows it).")
    @click.option("--evidence", multiple=True, type=click.Path(exists=True, dir_okay=False),
                  help="A scanned letter, photo or document; repeat for several.")
    @actor_opt
    @now_opt
    @click.pass_obj
    def complaints_register(obj: Any, via: str, received: str, enterprise: str, content: str | None,
                            content_file: str | None, name: str, phone: str, anonymous: bool,
                            evidence: tuple[str, ...], actor: str, now: str | None) -> None:
        """Register a complaint received by letter, phone or visit: same numbering, same handling as chat."""
        from workflows import intake
        from workflows.documents.store import DocumentRejected
        rt = obj.runtime
        if (content is None) == (content_file is None):
            raise click.UsageError("give exactly one of --content and --content-file")
        text = content if content is not None else Path(content_file).read_text(encoding="utf-8")
        received_on = base.day(rt, received, "--received")

        def go(s: Any, when: dt.datetime) -> str:
            [app_id] = publicity.application_ids(s, rt.settings, [enterprise])
            draft = channels.register_offline(s, rt.settings, actor=actor, now=when, via=via, received_on=received_on,
                                              application_id=app_id, content=text, real_name=name, phone=phone,
                                              anonymous=anonymous)
            for path in evidence:
                with open(path, "rb") as stream:
                    try:
                        intake.accept(s, rt.settings, rt.services["documents"],
                                      target=intake.Target("evidence", draft.id), stream=stream,
                                      filename=Path(path).name, source="offline", actor=actor, now=when)
                    except DocumentRejected as exc:
                        kind, data = intake.refusal(rt.settings, intake.Target("evidence", draft.id), exc,
                                                    Path(path).name)
                        raise click.ClickException(rt.renderer.text(f"messages/{kind.replace('.', '/')}.md.j2",
                                                                    **data)) from None
            c = publicity.lodge(s, rt.settings, draft, now=when)
            return f"{c.number} registered ({via}, received {received_on}) against {enterprise}; evidence: {len(evidence)} file(s)"
        click.echo(base.run(obj, go, now))

    @complaints_group.command("conclude")
    @click.argument("number")
    @click.option("--upheld/--not-upheld", required=True)
    @click.option("--findings", required=True, help="What the verification found.")
    @click.option("--reason", required=True, help="The reason for the conclusion (told to the complainant).")
    @click.option("--outcome", type=click.Choice(publicity.OUTCOMES), default=None,
                  help="For an upheld complaint: keep the winner, or remove it and refer the place to the committee.")
    @actor_opt
    @now_opt
    @click.pass_obj
    def complaints_conclude(obj: Any, number: str, upheld: bool, findings: str, reason: str, outcome: str | None,
                            actor: str, now: str | None) -> None:
        """Record findings and the conclusion of a complaint; the complainant is told."""
        def go(s: Any, when: dt.datetime) -> str:
            c = publicity.conclude(s, obj.runtime.settings, actor=actor, now=when, number=number, upheld=upheld,
                                    findings=findings, reason=reason, outcome=outcome)
            return f"{c.number} concluded: {'upheld' if c.upheld else 'not upheld'} ({c.outcome})"
        click.echo(base.run(obj, go, now))

    @complaints_group.command("decide")
    @click.argument("number")
    @click.option("--replace", "decision", flag_value="replace", help="The next-ranked candidate takes the place.")
    @click.option("--vacant", "decision", flag_value="vacant", help="The place stays vacant.")
    @click.option("--vote", "decision", flag_value="vote",
                  help="A new vote round among the remaining ranked candidates; its winner takes the place.")
    @click.option("--closes-at", default=None, help="--vote: closing time (default: the 议事规则's 决选时长 from now).")
    @click.option("--reason", required=True, help="The committee's decision as minuted (its meeting, its reason).")
    @click.option("--actor", required=True, help="The committee chair's userid (the decision is the committee's).")
    @now_opt
    @click.pass_obj
    def complaints_decide(obj: Any, number: str, decision: str | None, closes_at: str | None, reason: str,
                          actor: str, now: str | None) -> None:
        """Record the committee's decision on a place emptied by an upheld complaint (replace, vacant or vote)."""
        if decision is None:
            raise click.UsageError("give --replace, --vacant or --vote")

        def go(s: Any, when: dt.datetime) -> str:
            row = places.decide(s, obj.runtime.settings, actor=actor, now=when, complaint_number=number,
                                decision=decision, reason=reason,
                                closes_at=base.moment(obj.runtime, closes_at, "--closes-at") if closes_at else None)
            d = places.decision_data(s, row)
            if d["status"] == "voting":
                return f"{d['complaint']}: place {d['position']} -> replacement vote (ballot {d['ballot_id']})"
            if d["replacement"]:
                return (f"{d['complaint']}: place {d['position']} -> {d['replacement']['number']} "
                        f"{d['replacement']['name']}, notice {d['start']} .. {d['last_day']}")
            return f"{d['complaint']}: place {d['position']} vacant"
        click.echo(base.run(obj, go, now))

    @complaints_group.command("report")
    @click.option("--out", type=base.OUT_DIR, default=None)
    @actor_opt
    @now_opt
    @click.pass_obj
    def complaints_report(obj: Any, out: str | None, actor: str, now: str | None) -> None:
        """Send the written verification report to the committee and write it (Markdown and HTML)."""
        rt = obj.runtime

        def go(s: Any, when: dt.datetime) -> list[Path]:
            return ph.send_report(s, rt.settings, rt.renderer, actor=actor, now=when,
                                  out=Path(out) if out else None)[1]
        for f in base.run(obj, go, now):
            click.echo(f"wrote {f}")

    @main.group("approval")
    def approval_group() -> None:
        """The city government's approval (报市政府审批)."""

    @approval_group.command("record")
    @click.option("--date", "day", required=True, help="Date of the approval document (YYYY-MM-DD).")
    @click.option("--document", required=True, help="Document number, e.g. 韶府函〔2019〕12号.")
    @click.option("--approved", required=True, help="Approved application numbers, comma separated.")
    @click.option("--yes", is_flag=True, help="Record it even after the approval stage's deadline (asked "
                  "otherwise).")
    @actor_opt
    @now_opt
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
    @view_opt
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
    @actor_opt
    @now_opt
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
    @actor_opt
    @now_opt
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
    @actor_opt
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

    @award_group.command("status")
    @click.pass_obj
    def award_status(obj: Any) -> None:
        """Award records: prize payment, plaque and certificate."""
        def go(s: Any, when: dt.datetime) -> list[str]:
            return [f"{publicity.describe(s, r.application_id)['number']}  {r.prize_yuan}  {r.payment_status}"
                    f"  {r.payment_reference or ''}  plaque {r.plaque_issued_on or '-'}"
                    f"  certificate {r.certificate_issued_on or '-'}" for r in publicity.records(s, obj.runtime.settings)]
        for line in base.run(obj, go):
            click.echo(line)

    @main.command("archive")
    @click.option("--out", required=True, type=base.OUT_FILE, help="The zip file to write.")
    @actor_opt
    @click.pass_obj
    def archive_cmd(obj: Any, out: str, actor: str) -> None:
        """Export the whole edition (tables, files, reports, audit log) with a SHA-256 manifest."""
        rt = obj.runtime
        store = rt.services["documents"]
        pubdir = ph.publications_dir(rt.settings)
        extra = {p.name: p.read_bytes() for p in sorted(pubdir.glob("*"))} if pubdir.is_dir() else {}

        def go(s: Any, when: dt.datetime) -> dict[str, Any]:
            return archive.export(s, rt.settings, actor=actor, now=when, out=Path(out), store=store,
                                  extra_files=extra)
        manifest = base.run(obj, go)
        a = manifest["audit"]
        click.echo(f"wrote {out}: {len(manifest['files'])} files, {len(manifest['tables'])} tables; "
                   f"audit head #{a['head_id']} {a['head_hash']}")
        if manifest["missing_files"]:
            click.echo(f"missing stored files: {', '.join(manifest['missing_files'])}", err=True)

    @main.group("audit")
    def audit_group() -> None:
        """The append-only, hash-chained audit log."""

    @audit_group.command("verify")
    @click.option("--archive", "archive_path", type=click.Path(exists=True, dir_okay=False), default=None,
                  help="Also check the log still holds the head recorded in this archive, and the archive itself.")
    @click.option("--head", default=None, help="ID:HASH of a head recorded elsewhere.")
    @click.pass_obj
    def audit_verify(obj: Any, archive_path: str | None, head: str | None) -> None:
        """Verify the audit chain; exit 1 on any modified, deleted or re-ordered entry."""
        head_id = head_hash = None
        problems: list[str] = []
        if archive_path:
            manifest = archive.read_manifest(Path(archive_path))
            head_id, head_hash = manifest["audit"]["head_id"], manifest["audit"]["head_hash"]
            problems += [f"archive: {p}" for p in archive.verify_archive(Path(archive_path))]
        if head:
            raw_id, _, head_hash = head.partition(":")
            if not (raw_id.isdigit() and head_hash):
                raise click.BadParameter(f"{head!r} must look like ID:HASH (as `audit verify` printed it)",
                                         param_hint="--head")
            head_id = int(raw_id)
        check = base.run(obj, lambda s, when: archive.verify_audit(s, head_id=head_id, head_hash=head_hash))
        if check.ok and not problems:
            click.echo(f"audit log OK: {check.entries} entries, head #{check.head_id} {check.head_hash}")
            return
        if not check.ok:
            click.echo(f"audit log BROKEN: {check.problem} at entry {check.first_bad_id} "
                       f"({check.entries} entries verified before it)", err=True)
        for p in problems:
            click.echo(p, err=True)
        sys.exit(1)
