"""The approval package (评选情况报告) as files: Markdown and HTML from templates/reports/approval.*.j2, and a
Word document (python-docx) built from the same Markdown, so every word of it stays in the templates.

The data is `workflows.publicity.package.package_data`; see docs/publicity.md.
"""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from workflows.core.settings import Settings

from .render import Renderer

FORMATS = ("md", "html", "docx")
MIME = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
FONT = "SimSun"   # 宋体, what a government office opens a report in
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_NUMBERED = re.compile(r"^(\d+)\. (.*)$")


def file_name(settings: Settings, fmt: str) -> str:
    """`<edition>-approval.<fmt>`."""
    return f"{settings.award.edition_key}-approval.{fmt}"


def render(renderer: Renderer, data: dict[str, Any], fmt: str) -> bytes:
    """The package in one format, as bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if fmt == "docx":
        return markdown_docx(renderer.text("reports/approval.md.j2", p=data))
    return (renderer.text(f"reports/approval.{fmt}.j2", p=data) + "\n").encode("utf-8")


def write(renderer: Renderer, settings: Settings, data: dict[str, Any], out: Path,
          formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """Write the package in each format into `out` (a directory); {format: path}."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt in formats:
        path = out / file_name(settings, fmt)
        path.write_bytes(render(renderer, data, fmt))
        paths[fmt] = path
    return paths


def sha256(path: Path) -> str:
    """The file's SHA-256 (recorded in the audit when the approval is recorded)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- Markdown (the subset our report templates write) → docx --------------------------------------------
def _runs(paragraph: Any, text: str) -> None:
    """Add text with **bold** spans as runs."""
    parts = _BOLD.split(text)
    for i, part in enumerate(parts):
        if part:
            run = paragraph.add_run(part)
            run.bold = i % 2 == 1


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _is_rule(line: str) -> bool:
    return bool(re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", line.strip()))


def markdown_docx(text: str) -> bytes:
    """A Word document of Markdown headings, paragraphs, lists, quotes, tables and bold."""
    doc = Document()
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "Heading 4"):
        style = doc.styles[name]
        style.font.name = FONT
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    doc.styles["Normal"].font.size = Pt(12)
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip():
            i += 1
            continue
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                if not _is_rule(lines[i]):
                    rows.append(_cells(lines[i]))
                i += 1
            width = max(len(r) for r in rows)
            table = doc.add_table(rows=len(rows), cols=width)
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    _runs(cell.paragraphs[0], value)
                    if r == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            continue
        heading = re.match(r"^(#{1,4}) (.*)$", line)
        if heading:
            level = len(heading.group(1))
            h = doc.add_heading(level=level)
            _runs(h, heading.group(2))
            if level == 1:
                h.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif line.startswith("> "):
            _runs(doc.add_paragraph(style="Intense Quote"), line[2:])
        elif line.startswith("- "):
            _runs(doc.add_paragraph(style="List Bullet"), line[2:])
        elif _NUMBERED.match(line):
            _runs(doc.add_paragraph(), line)
        else:
            _runs(doc.add_paragraph(), line)
        i += 1
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def docx_text(content: bytes) -> str:
    """Every paragraph and table cell of a docx, one per line (for tests and checks)."""
    doc = Document(io.BytesIO(content))
    out = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            out.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(out)
