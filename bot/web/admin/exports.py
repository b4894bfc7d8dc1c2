"""Exports for the secretariat: applications, assignments and score sheets as XLSX (openpyxl); reports to download.

Column headings are Chinese text and live in templates/exports/columns.j2 like every other user-facing text.
"""
from __future__ import annotations

import io
from decimal import Decimal
from typing import Any, Iterable

from flask import Response, send_file
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from workflows import apply, publicity, review, scoring, voting
from workflows.apply.models import Application
from workflows.core.cells import text_cell, text_row
from workflows.core.errors import DomainError
from workflows.scoring import overview
from workflows.scoring.models import Assignment, ScoreSheet

from ... import approval as approval_files
from .auth import Signed, now
from .gate import bp, view
from . import names
from .pages import names_of
from .render import env, page, rt

# Dates as a clerk writes them, kept as real dates (they sort and filter in Excel and WPS).
DATE_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORTS = ("material.html", "material.md", "site.html", "site.md", "vote.md", "verification.html",
           "verification.md", "approval.html", "approval.md", "approval.docx")


def _columns() -> Any:
    return env().get_template("exports/columns.j2").module


class When:
    """A time for a cell: written as the local date and time in DATE_FORMAT."""

    def __init__(self, value) -> None:  # noqa: ANN001
        self.value = names.clerk_date(value, rt().settings.award.tz)


def _local(value) -> "When | str":  # noqa: ANN001
    return When(value) if value else ""


def _words() -> Any:
    return names.table(env())


def _number(text: str | None) -> float | str:
    """Exact decimal text as a spreadsheet number (scores are exact to a few places)."""
    if not text:
        return ""
    return float(Decimal(text))


def _sheet(wb: Workbook, title: str, header: list[str], rows: Iterable[list[Any]], *, first: bool = False) -> None:
    ws = wb.create_sheet(title[:31])   # write-only: streamed rows, several times faster than a full workbook
    ws.freeze_panes = "A2"
    for i, name in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(str(name)) * 2 + 4))
    ws.append(text_row(header))
    for row in rows:
        ws.append([_cell(ws, v) if isinstance(v, When) else text_cell(v) for v in row])   # what a person typed stays text, never a formula


def _cell(ws, when: When) -> WriteOnlyCell:  # noqa: ANN001
    cell = WriteOnlyCell(ws, value=when.value)
    cell.number_format = DATE_FORMAT
    return cell


def _send(wb: Workbook, name: str) -> Response:
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    resp = send_file(out, mimetype=XLSX, as_attachment=True,
                     download_name=f"{rt().settings.award.edition_key}-{name}.xlsx", max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/exports")
@view("exports", "exports.download")
def exports(me: Signed) -> Response:
    """What can be downloaded."""
    with rt().sessions() as s:
        settings = rt().settings
        available = {"material": bool(scoring.assignments(s, settings, "material")),
                     "site": bool(scoring.assignments(s, settings, "site")),
                     "vote": voting.latest_round(s, settings) is not None,
                     "verification": publicity.current(s, settings) is not None,
                     "approval": publicity.applications_received(s, settings) > 0}
    return page("exports", available=available)


@bp.get("/exports/applications.xlsx")
@view("exports", "exports.download")
def export_applications(me: Signed) -> Response:
    """Every application of the edition with its facts, status and formal-review decision."""
    settings, c = rt().settings, _columns()
    labels, words = env().get_template("_labels.j2").module.app_status, _words()
    with rt().sessions() as s:
        rows = []
        for app in apply.search(s, settings):
            r = review.review_for(s, app.id)
            rows.append([app.number or "", app.enterprise_name or "", app.credit_code or "",
                         apply.unit_name(settings, app), app.industry or "", labels.get(app.status, app.status),
                         app.contact_name or "", app.contact_phone or "", _local(app.submitted_at),
                         words.review_decisions.get(r.decision, r.decision) if r and r.decision else "",
                         (r.reason or "") if r else ""])
    wb = Workbook(write_only=True)
    _sheet(wb, c.titles["applications"], list(c.applications), rows, first=True)
    return _send(wb, "applications")


@bp.get("/exports/assignments.xlsx")
@view("exports", "exports.download")
def export_assignments(me: Signed) -> Response:
    """Who scores which application in each phase, and where each sheet stands."""
    settings, c, words = rt().settings, _columns(), _words()
    with rt().sessions() as s:
        q = (select(Assignment, Application).join(Application, Application.id == Assignment.application_id)
             .where(Application.edition == settings.award.edition_key)
             .order_by(Assignment.phase, Application.number, Assignment.expert))
        pairs = list(s.execute(q))
        sheets = {(x.phase, x.application_id, x.expert): x.status for x in s.scalars(
            select(ScoreSheet).where(ScoreSheet.edition == settings.award.edition_key))}
        people = names_of(s, [a.expert for a, _ in pairs])
        rows = [[c.phases[a.phase], app.number or "", app.enterprise_name or "", a.expert,
                 people.get(a.expert, ""), _local(a.assigned_at),
                 words.sheet_status[sheets.get((a.phase, app.id, a.expert)) or "none"]]
                for a, app in pairs]
    wb = Workbook(write_only=True)
    _sheet(wb, c.titles["assignments"], list(c.assignments), rows, first=True)
    return _send(wb, "assignments")


@bp.get("/exports/scores.xlsx")
@view("exports", "exports.download")
def export_scores(me: Signed) -> Response:
    """Score sheets per phase (every item, subtotals, total) and a summary sheet with the final scores."""
    settings, c, words = rt().settings, _columns(), _words()
    rubric = scoring.configured_rubric(settings)
    wb = Workbook(write_only=True)
    summary = []
    with rt().sessions() as s:
        for i, phase in enumerate(scoring.PHASES):
            data = overview.sheets(s, settings, phase)
            rows = []
            for entry in data["applications"]:
                app = entry["app"]
                for e in entry["experts"]:
                    rows.append([app.number or "", app.enterprise_name or "", e["userid"], e["name"],
                                 words.sheet_status.get(e["status"], e["status"]),
                                 words.sources.get(e["source"], e["source"]), *(e["percentages"].get(k, "") for k in rubric.item_keys),
                                 *(_number(e["subtotals"].get(cat.key)) for cat in rubric.categories),
                                 _number(e["total"])])
                summary.append([c.phases[phase], app.number or "", app.enterprise_name or "",
                                _number(entry["aggregate"]), _number(entry["consensus"].value)
                                if entry["consensus"] else "", _number(entry["score"]),
                                "✓" if entry["flagged_items"] or entry["total_flagged"] else ""])
            header = [*c.scores, *(f"{it.key} {it.name}（%）" for it in rubric.items),
                      *(f"{cat.name}（{c.points}）" for cat in rubric.categories), c.total]
            _sheet(wb, c.phases[phase], header, rows, first=i == 0)
    _sheet(wb, c.titles["summary"], list(c.summary), summary)
    return _send(wb, "scores")


@bp.get("/reports/<name>")
@view("exports", "exports.download")
def report(me: Signed, name: str) -> Response:
    """A report rendered from templates/reports, as a download (the same text the CLI writes)."""
    if name not in REPORTS:
        return page("missing", 404)
    kind, ext = name.split(".")
    settings, renderer = rt().settings, rt().renderer
    with rt().sessions() as s:
        try:
            if kind == "approval":   # the 评选情况报告 to the city government, as it stands now
                return _download(approval_files.render(renderer, publicity.package_data(s, settings, now=now()), ext),
                                 approval_files.MIME[ext], f"{settings.award.edition_key}-{name}")
            if kind in scoring.PHASES:
                text = renderer.text(f"reports/{kind}.{ext}.j2", **scoring.report_data(s, settings, kind))
            elif kind == "vote":
                reports = voting.reports(s, settings)     # the award vote, then any replacement votes
                if not reports:
                    return page("missing", 404)
                text = "\n\n".join(renderer.text("reports/vote.md.j2", **r) for r in reports)
            else:
                text = renderer.text(f"reports/verification.{ext}.j2",
                                     r=publicity.verification_report(s, settings, now=now()))
        except DomainError:
            return page("missing", 404)
    mime = "text/html" if ext == "html" else "text/markdown"
    return _download((text + "\n").encode("utf-8"), f"{mime}; charset=utf-8", f"{settings.award.edition_key}-{name}")


def _download(content: bytes, mime: str, filename: str) -> Response:
    resp = send_file(io.BytesIO(content), mimetype=mime, as_attachment=True, download_name=filename, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
