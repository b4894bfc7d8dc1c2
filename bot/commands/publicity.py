"""CLI: `publicity start|status|publish|log`, `complaints list|conclude|report|decide|register`,
`archive --out FILE.zip`, `audit verify` (the approval and the award: bot/commands/award.py)."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from workflows import archive
from workflows import publicity
from workflows.core.errors import InvalidInput
from workflows.publicity import channels, places, publication

from . import base


NOW_OPT = click.option("--now", default=None, help="Act as of this time (2019-02-01 10:00, 2019/2/1, 2月1日 …; a "
                       "date alone is 23:59:59); default: now. Where the command changes anything, only with "
                       "[server] time_travel on (the demo, a training copy).")
VIEW_OPT = click.option("--now", default=None, help="Show it as of this time (2019-02-01 10:00, 2019/2/1, 2月1日 …); "
                        "default: now. Changes nothing.")
ACTOR_OPT = click.option("--actor", default="cli", help="Who acts (audit log).")


def publish_command(group: click.Group, what: str, noun: str) -> None:
    """`<group> publish CHANNEL --on DAY [--link URL]` and `<group> log` for the notice or the announcement."""

    @group.command("publish")
    @click.argument("channel")
    @click.option("--on", "day_text", required=True, help="The day it appeared there (2019-02-01, 2月1日 …).")
    @click.option("--link", default="", help="Where it can be read.")
    @ACTOR_OPT
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


def register(main: click.Group) -> None:
    """Add the publicity, complaints, archive and audit command groups."""
    from ..handlers import publicity as ph

    @main.group("publicity")
    def publicity_group() -> None:
        """Public notice (公示) of the proposed winners."""

    @publicity_group.command("start")
    @click.option("--out", type=base.OUT_DIR, default=None, help="Directory for the channel texts.")
    @click.option("--yes", is_flag=True, help="Start even if the window ends after the stage's deadline (asked "
                  "otherwise).")
    @ACTOR_OPT
    @NOW_OPT
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
    @VIEW_OPT
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
    @ACTOR_OPT
    @NOW_OPT
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
                  help="For an upheld complaint: keep the winner, or refer its removal and its place to the "
                       "committee (which decides: `complaints decide`).")
    @ACTOR_OPT
    @NOW_OPT
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
    @click.option("--keep", "decision", flag_value="keep", help="The committee keeps the winner on the list.")
    @click.option("--replace", "decision", flag_value="replace", help="The next-ranked candidate takes the place.")
    @click.option("--vacant", "decision", flag_value="vacant", help="The place stays vacant.")
    @click.option("--vote", "decision", flag_value="vote",
                  help="A new vote round among the remaining ranked candidates; its winner takes the place.")
    @click.option("--closes-at", default=None, help="--vote: closing time (default: the 议事规则's 决选时长 from now).")
    @click.option("--reason", required=True, help="The committee's decision as minuted (its meeting, its reason).")
    @click.option("--actor", required=True, help="The committee chair's userid (the decision is the committee's).")
    @NOW_OPT
    @click.pass_obj
    def complaints_decide(obj: Any, number: str, decision: str | None, closes_at: str | None, reason: str,
                          actor: str, now: str | None) -> None:
        """Record the committee's decision on a winner referred after an upheld complaint (NUMBER: the complaint's):
        keep it, or remove it and fill its place (replace, vote) or leave it vacant; or on a place the city's
        approval left out (NUMBER: that application's): replace, vote or vacant."""
        if decision is None:
            raise click.UsageError("give --keep, --replace, --vacant or --vote")

        def go(s: Any, when: dt.datetime) -> str:
            row = places.decide(s, obj.runtime.settings, actor=actor, now=when, complaint_number=number,
                                decision=decision, reason=reason,
                                closes_at=base.moment(obj.runtime, closes_at, "--closes-at") if closes_at else None)
            d = places.decision_data(s, row)
            if d["status"] == "kept":
                return f"{d['complaint']}: {d['removed']['number']} kept on the list (place {d['position']})"
            if d["status"] == "voting":
                return f"{d['complaint']}: place {d['position']} -> replacement vote (ballot {d['ballot_id']})"
            if d["replacement"]:
                return (f"{d['complaint']}: place {d['position']} -> {d['replacement']['number']} "
                        f"{d['replacement']['name']}, notice {d['start']} .. {d['last_day']}")
            return f"{d['complaint']}: place {d['position']} vacant"
        click.echo(base.run(obj, go, now))

    @complaints_group.command("report")
    @click.option("--out", type=base.OUT_DIR, default=None)
    @ACTOR_OPT
    @NOW_OPT
    @click.pass_obj
    def complaints_report(obj: Any, out: str | None, actor: str, now: str | None) -> None:
        """Send the written verification report to the committee and write it (Markdown and HTML)."""
        rt = obj.runtime

        def go(s: Any, when: dt.datetime) -> list[Path]:
            return ph.send_report(s, rt.settings, rt.renderer, actor=actor, now=when,
                                  out=Path(out) if out else None)[1]
        for f in base.run(obj, go, now):
            click.echo(f"wrote {f}")

    @main.command("archive")
    @click.option("--out", required=True, type=base.OUT_FILE, help="The zip file to write.")
    @ACTOR_OPT
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
