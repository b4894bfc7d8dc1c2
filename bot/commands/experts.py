"""CLI for expert review: assign experts, shortlists, reports, paper score sheets (thin wrappers over workflows)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from workflows import scoring
from workflows.core import people
from workflows.core.errors import DomainError
from workflows.scoring import feedback

from . import base

PHASES = click.Choice(list(scoring.PHASES))


def _group(main: click.Group, name: str, help_text: str) -> click.Group:
    """The existing group of that name (another flow may have made it), or a new one."""
    existing = main.commands.get(name)
    if isinstance(existing, click.Group):
        return existing
    group = click.Group(name, help=help_text)
    main.add_command(group)
    return group


def _actor(session, given: str | None, role: str) -> str:
    """The given actor, or the only/first roster member with the role."""
    if given:
        return given
    members = people.with_role(session, role)
    if not members:
        raise click.ClickException(f"no roster member with role {role}; pass --actor")
    return members[0].userid


def _print_proposal(view: scoring.ProposalView) -> None:
    for row in view.rows:
        click.echo(f"{row['number']} {row['enterprise']}: " + ", ".join(e["userid"] for e in row["experts"]))
    click.echo("load: " + ", ".join(f"{k}={v}" for k, v in view.loads.items()))
    for p in view.problems:
        click.echo(f"PROBLEM {p['number']} {p['enterprise']}: {p['code']} {p['data']}", err=True)


def report_paths(out: str, phase: str) -> tuple[Path, Path]:
    """Markdown and HTML paths for --out: a directory, or a file name whose suffix is replaced."""
    path = Path(out)
    if path.is_dir() or out.endswith(("/", "\\")):
        path.mkdir(parents=True, exist_ok=True)
        return path / f"{phase}.md", path / f"{phase}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.with_suffix("") if path.suffix in (".md", ".html", ".htm") else path
    return stem.with_name(stem.name + ".md"), stem.with_name(stem.name + ".html")


def write_report(rt, phase: str, out: str) -> tuple[Path, Path]:
    """Render the phase report as Markdown and HTML files."""
    with rt.sessions() as s:
        data = scoring.report_data(s, rt.settings, phase)
    md, html = report_paths(out, phase)
    md.write_text(rt.renderer.text(f"reports/{phase}.md.j2", **data) + "\n", encoding="utf-8")
    html.write_text(rt.renderer.text(f"reports/{phase}.html.j2", **data) + "\n", encoding="utf-8")
    return md, html


def register(main: click.Group) -> None:
    """Add the experts, report and scores command groups."""
    experts_group = _group(main, "experts", "Expert assignment for material review and site visit.")
    report_group = _group(main, "report", "Reports rendered from templates/reports.")
    scores_group = _group(main, "scores", "Score sheets: import paper sheets, export, shortlists.")

    @experts_group.command("assign")
    @click.option("--propose", "mode", flag_value="propose", help="Propose a balanced, impartial assignment.")
    @click.option("--confirm", "mode", flag_value="confirm", help="Confirm the pending proposal (after --set edits).")
    @click.option("--phase", type=PHASES, default=None, help="material or site (default: the open one).")
    @click.option("--set", "edits", multiple=True, metavar="NUMBER=U1,U2,…", help="Replace one application's experts.")
    @click.option("--actor", default=None, help="Secretariat userid (audit log).")
    @click.pass_obj
    def assign(obj, mode: str | None, phase: str | None, edits: tuple[str, ...], actor: str | None) -> None:
        """Propose, edit (--set) and confirm the expert assignment."""
        if mode is None and not edits:
            raise click.UsageError("give --propose, --confirm or --set")
        for edit in edits:
            number, sep, users = edit.partition("=")
            if not (sep and number.strip() and users.strip(",， ")):
                raise click.BadParameter(f"{edit!r} must look like NUMBER=U1,U2,…", param_hint="--set")
        rt = obj.runtime
        try:
            with rt.sessions.begin() as s:
                who = _actor(s, actor, scoring.SECRETARIAT)
                ph = phase or scoring.current_phase(s, rt.settings) or "material"
                view = None
                if mode == "propose":
                    view = scoring.propose(s, rt.settings, actor=who, now=rt.clock(), phase=ph)
                for edit in edits:
                    number, _, users = edit.partition("=")
                    view = scoring.edit(s, rt.settings, actor=who, now=rt.clock(), phase=ph, number=number,
                                        experts=[u.strip() for u in users.split(",") if u.strip()])
                if mode == "confirm":
                    view = scoring.confirm(s, rt.settings, actor=who, now=rt.clock(), phase=ph)
                    click.echo(f"confirmed {len(view.rows)} applications; experts notified")
                _print_proposal(view)
        except DomainError as exc:
            base.refuse(rt, exc)

    @report_group.command("material")
    @click.option("--out", required=True, type=base.OUT_ANY, help="Output directory or file name (.md and .html are written).")
    @click.pass_obj
    def report_material(obj, out: str) -> None:
        """The material review report (Markdown and HTML)."""
        for path in write_report(obj.runtime, "material", out):
            click.echo(f"wrote {path}")

    @report_group.command("site")
    @click.option("--out", required=True, type=base.OUT_ANY, help="Output directory or file name (.md and .html are written).")
    @click.pass_obj
    def report_site(obj, out: str) -> None:
        """The site visit report with the composite ranking (Markdown and HTML)."""
        for path in write_report(obj.runtime, "site", out):
            click.echo(f"wrote {path}")

    @report_group.command("feedback")
    @click.argument("number")
    @click.option("--out", default=None, type=base.OUT_ANY,
                  help="Output directory or file name (.md and .html are written); without it, Markdown on stdout.")
    @click.pass_obj
    def report_feedback(obj, number: str, out: str | None) -> None:
        """One applicant's feedback report: per category the score band, key strengths and opportunities."""
        rt = obj.runtime
        try:
            with rt.sessions() as s:
                data = feedback.feedback_data(s, rt.settings, number)
        except DomainError as exc:
            base.refuse(rt, exc)
        if out is None:
            click.echo(rt.renderer.text("reports/feedback.md.j2", f=data))
            return
        for path, fmt in zip(report_paths(out, f"feedback-{data['number']}"), ("md", "html")):
            path.write_text(rt.renderer.text(f"reports/feedback.{fmt}.j2", f=data) + "\n", encoding="utf-8")
            click.echo(f"wrote {path}")

    @scores_group.command("import")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--phase", type=PHASES, default=None, help="material or site (default: the open one).")
    @click.option("--actor", default=None, help="Secretariat userid (audit log).")
    @click.pass_obj
    def scores_import(obj, csv_file: str, phase: str | None, actor: str | None) -> None:
        """Import paper score sheets: number,expert,<item keys…>; same validation and audit as chat."""
        rt = obj.runtime
        text = Path(csv_file).read_text(encoding="utf-8-sig")
        try:
            with rt.sessions.begin() as s:
                ph = phase or scoring.current_phase(s, rt.settings) or "material"
                result = scoring.import_sheets(s, rt.settings, actor=_actor(s, actor, scoring.SECRETARIAT),
                                               now=rt.clock(), phase=ph, text=text)
        except DomainError as exc:
            base.refuse(rt, exc)
        if result.problems:
            for p in result.problems:
                click.echo(f"line {p.line}: {p.code} {p.data}", err=True)
            click.echo("nothing imported", err=True)
            sys.exit(1)
        click.echo(f"imported {result.imported} score sheets")

    @scores_group.command("export")
    @click.argument("csv_file", type=base.OUT_FILE)
    @click.option("--phase", type=PHASES, default=None, help="Only this phase (default: both).")
    @click.pass_obj
    def scores_export(obj, csv_file: str, phase: str | None) -> None:
        """Export every score sheet as CSV (items, category subtotals, total)."""
        rt = obj.runtime
        with rt.sessions() as s:
            text = scoring.export_sheets(s, rt.settings, phase)
        Path(csv_file).write_text(text, encoding="utf-8-sig")
        click.echo(f"wrote {csv_file} ({max(text.count(chr(10)) - 1, 0)} sheets)")

    @scores_group.command("candidates")
    @click.option("--actor", default=None, help="Secretariat userid (audit log).")
    @click.pass_obj
    def scores_candidates(obj, actor: str | None) -> None:
        """Record the site-visit candidates (material ranking must be final; a tie at the cut: `scores tie-break`)."""
        _shortlist(obj.runtime, scoring.select_candidates, actor)

    @scores_group.command("finalists")
    @click.option("--actor", default=None, help="Secretariat userid (audit log).")
    @click.pass_obj
    def scores_finalists(obj, actor: str | None) -> None:
        """Record the committee's top N by composite (site ranking must be final; a tie: `scores tie-break`)."""
        _shortlist(obj.runtime, scoring.select_finalists, actor)

    @scores_group.command("tie-break")
    @click.argument("kind", type=click.Choice(["candidates", "finalists"]))
    @click.option("--pick", multiple=True, required=True, metavar="NUMBER", help="Who goes on from the tie at "
                  "the cut (repeat for each one chosen; a refusal tie_at_cut names the tied).")
    @click.option("--reason", required=True, help="The decision's reason, as minuted (audit log).")
    @click.option("--actor", required=True, help="The userid of whom [award.rules] tie_at_cut_decided_by names "
                  "(the expert group's leader, or the committee's chair).")
    @click.pass_obj
    def scores_tie_break(obj, kind: str, pick: tuple[str, ...], reason: str, actor: str) -> None:
        """Record the decision on a tie straddling a cut (by the leader or the chair, as the rules say) and the
        shortlist that follows from it."""
        rt = obj.runtime
        try:
            with rt.sessions.begin() as s:
                for number in pick:   # each names an application of the edition before anything is decided
                    scoring.find_application(s, rt.settings, number)
                apps = scoring.break_tie(s, rt.settings, actor=actor, now=rt.clock(),
                                         kind=scoring.SITE_KIND if kind == "candidates" else scoring.VOTE_KIND,
                                         picks=list(pick), reason=reason)
                for position, app in enumerate(apps, start=1):
                    click.echo(f"{position}. {app.number} {app.enterprise_name}")
        except DomainError as exc:
            base.refuse(rt, exc)


def _shortlist(rt, select, actor: str | None) -> None:
    try:
        with rt.sessions.begin() as s:
            apps = select(s, rt.settings, actor=_actor(s, actor, scoring.SECRETARIAT), now=rt.clock())
            for position, app in enumerate(apps, start=1):
                click.echo(f"{position}. {app.number} {app.enterprise_name}")
    except DomainError as exc:
        base.refuse(rt, exc)
