"""The winners' 证书 as files: Word (python-docx) and a printable HTML page, from templates/reports/certificate.*.

Every word is in the templates; this module only lays the Markdown-like lines of `certificate.md.j2` out on a
landscape A4 page (`# ` the title, large and centred; `> ` a small right-aligned line, the number; `>> ` the issuer and the date, right-aligned).
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from .approval import FONT
from .render import Renderer

FORMATS = ("docx", "html")
MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "html": "text/html; charset=utf-8"}
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def file_name(data: dict[str, Any], fmt: str) -> str:
    """`<number>.<fmt>` (the number is unique in the edition and safe in a file name)."""
    return f"{data['number']}.{fmt}"


def render(renderer: Renderer, data: dict[str, Any], fmt: str) -> bytes:
    """One certificate in one format, as bytes."""
    if fmt == "html":
        return (renderer.text("reports/certificate.html.j2", c=data) + "\n").encode("utf-8")
    if fmt == "docx":
        return _docx(renderer.text("reports/certificate.md.j2", c=data))
    raise ValueError(f"unknown format {fmt!r}")


def write(renderer: Renderer, certificates: list[dict[str, Any]], out: Path) -> list[Path]:
    """Every certificate in every format into the directory `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for data in certificates:
        for fmt in FORMATS:
            path = out / file_name(data, fmt)
            path.write_bytes(render(renderer, data, fmt))
            paths.append(path)
    return paths


def _runs(paragraph: Any, text: str, size: int, bold: bool = False) -> None:
    for i, part in enumerate(_BOLD.split(text)):
        if part:
            run = paragraph.add_run(part)
            run.bold = bold or i % 2 == 1
            run.font.size = Pt(size)
            run.font.name = FONT
            run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _docx(text: str) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Mm(30))
    section.top_margin = section.bottom_margin = Mm(20)
    for line in (raw.rstrip() for raw in text.splitlines()):
        if not line.strip():
            continue
        p = doc.add_paragraph()
        if line.startswith("# "):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _runs(p, line[2:], 36, bold=True)
            p.runs[0].font.color.rgb = RGBColor(0xB2, 0x22, 0x22)
        elif line.startswith(">> "):
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _runs(p, line[3:], 16)
        elif line.startswith("> "):
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _runs(p, line[2:], 11)
        else:
            p.paragraph_format.first_line_indent = Pt(32) if not line.endswith("：") else None
            _runs(p, line, 16)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
