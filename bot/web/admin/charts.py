"""Small server-rendered SVG charts for the workbench: bars (with marks such as the 450 gate), stacked bars
(vote participation), dot rows (each expert's score per item or per application, the spread the consensus settles).

No JavaScript, no CDN, no dependency: an `<svg>` drawn in a 400-unit-wide viewBox that scales with the page (on a
375 px phone its 13-unit text stays about 11 px). Colours come from classes styled in admin.css; every mark carries
its number in `data-value` and a `<title>` (a tooltip, read out by screen readers), and every chart is shown next
to a table with the same numbers — the chart is for looking, the table for reading.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from html import escape
from typing import Mapping, Sequence

from markupsafe import Markup

W = 400          # viewBox width
ROW = 24         # one row's height
FONT = 13        # text size in viewBox units
VALUE_W = 58     # room right of a bar for its number
_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str = ""        # the number as shown (default: the value)
    kind: str = ""        # a class: "selected", "below", "flagged", "overdue"…
    title: str = ""       # the tooltip (default: label and text)


@dataclass(frozen=True)
class Mark:
    value: float
    label: str
    kind: str = "gate"


@dataclass(frozen=True)
class Part:
    value: float
    kind: str
    name: str


@dataclass(frozen=True)
class Dot:
    value: float
    series: int           # the series' index (an expert): its colour and legend entry
    text: str = ""


@dataclass
class DotRow:
    label: str
    dots: list[Dot]
    centre: float | None = None   # the group's value (the aggregate) drawn as a tick
    flagged: bool = False
    title: str = ""
    extra: dict = field(default_factory=dict)


def _w(text: str) -> float:
    """Rough width of a text in viewBox units (CJK full width, the rest about 0.6)."""
    return sum(FONT if ord(c) > 0x2E80 else FONT * 0.6 for c in text)


def _fit(text: str, width: float) -> str:
    while text and _w(text) > width:
        text = text[:-2] + "…" if len(text) > 1 else ""
    return text


def _num(v: float) -> str:
    return f"{v:.4f}".rstrip("0").rstrip(".")


def _svg(kind: str, title: str, height: float, body: list[str]) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg class="chart chart-{kind}" viewBox="0 0 {W} {_num(height)}" width="100%" role="img" '
        f'aria-labelledby="chart-{n}" xmlns="http://www.w3.org/2000/svg" font-size="{FONT}">'
        f'<title id="chart-{n}">{escape(title)}</title>' + "".join(body) + "</svg>")


def _label_w(labels: Sequence[str]) -> float:
    return min(130.0, max([_w(x) for x in labels] + [24.0]) + 8)


def bars(rows: Sequence[Bar], *, title: str, top: float | None = None, marks: Sequence[Mark] = (),
         labels: Mapping[str, str] | None = None) -> Markup:
    """Horizontal bars, one row each, with vertical marks (a gate, a quorum) across them; `labels` turns a row's
    code into its words (templates pass their label tables)."""
    if labels:
        rows = [replace(r, label=labels.get(r.label, r.label)) for r in rows]
    lw = _label_w([r.label for r in rows])
    plot = W - lw - VALUE_W
    top = top or max([r.value for r in rows] + [m.value for m in marks] + [1])
    head = 18 if marks else 4
    height = head + len(rows) * ROW + 4
    x = lambda v: lw + plot * max(0.0, min(v, top)) / top  # noqa: E731
    body = []
    for i, r in enumerate(rows):
        y = head + i * ROW
        text = r.text or _num(r.value)
        body.append(
            f'<g class="bar {escape(r.kind)}" data-label="{escape(r.label)}" data-value="{_num(r.value)}">'
            f'<title>{escape(r.title or f"{r.label}：{text}")}</title>'
            f'<text x="{_num(lw - 6)}" y="{_num(y + ROW / 2 + 4)}" text-anchor="end">{escape(_fit(r.label, lw - 8))}</text>'
            f'<rect x="{_num(lw)}" y="{_num(y + 4)}" width="{_num(x(r.value) - lw)}" height="{ROW - 8}" rx="2"/>'
            f'<text class="value" x="{_num(x(r.value) + 4)}" y="{_num(y + ROW / 2 + 4)}">{escape(text)}</text></g>')
    for i, m in enumerate(marks):   # the first mark's label left of its line, the others right: they never collide
        mx, anchor, dx = x(m.value), "end" if i == 0 else "start", -3 if i == 0 else 3
        body.append(f'<g class="mark {escape(m.kind)}" data-value="{_num(m.value)}"><title>{escape(m.label)}</title>'
                    f'<line x1="{_num(mx)}" x2="{_num(mx)}" y1="14" y2="{_num(height)}"/>'
                    f'<text x="{_num(mx + dx)}" y="11" text-anchor="{anchor}">{escape(m.label)}</text></g>')
    return _svg("bars", title, height, body)


def stacked(rows: Sequence[tuple[str, Sequence[Part]]], *, title: str, marks: Sequence[Mark] = (),
            labels: Mapping[str, str] | None = None, names: Mapping[str, str] | None = None) -> Markup:
    """One bar per row made of parts (voted, not voted, recused…), scaled to the largest row; a legend below.
    `labels` words the rows' codes, `names` the parts' codes."""
    labels, names = labels or {}, names or {}
    rows = [(labels.get(label, label), [replace(p, name=names.get(p.name, p.name)) for p in parts])
            for label, parts in rows]
    lw = _label_w([label for label, _ in rows])
    plot = W - lw - 8
    top = max([sum(p.value for p in parts) for _, parts in rows] + [1])
    head = 18 if marks else 4
    legend = [(k, n, "rect") for k, n in dict.fromkeys((p.kind, p.name) for _, parts in rows for p in parts)]
    height = head + len(rows) * ROW + 8 + _legend_lines(legend) * 18 + 4
    body = []
    for i, (label, parts) in enumerate(rows):
        y, left = head + i * ROW, lw
        body.append(f'<text x="{_num(lw - 6)}" y="{_num(y + ROW / 2 + 4)}" text-anchor="end">'
                    f'{escape(_fit(label, lw - 8))}</text>')
        for p in parts:
            width = plot * p.value / top
            body.append(f'<g class="part {escape(p.kind)}" data-row="{escape(label)}" data-name="{escape(p.name)}" '
                        f'data-value="{_num(p.value)}"><title>{escape(f"{label} · {p.name}：{_num(p.value)}")}</title>'
                        f'<rect x="{_num(left)}" y="{_num(y + 3)}" width="{_num(width)}" height="{ROW - 6}"/>'
                        + (f'<text class="inside" x="{_num(left + width / 2)}" y="{_num(y + ROW / 2 + 4)}" '
                           f'text-anchor="middle">{_num(p.value)}</text>' if p.value and width >= 14 else "")
                        + "</g>")
            left += width
    for m in marks:
        mx = lw + plot * m.value / top
        body.append(f'<g class="mark {escape(m.kind)}" data-value="{_num(m.value)}"><title>{escape(m.label)}</title>'
                    f'<line x1="{_num(mx)}" x2="{_num(mx)}" y1="14" y2="{_num(head + len(rows) * ROW)}"/>'
                    f'<text x="{_num(mx)}" y="11" text-anchor="middle">{escape(m.label)}</text></g>')
    body.append(_legend(legend, head + len(rows) * ROW + 8))
    return _svg("stacked", title, height, body)


def _layout(entries: Sequence[tuple[str, str, str]]) -> list[tuple[float, int]]:
    """Where each legend entry goes: (x, line), wrapping at the chart's width."""
    out, x, line = [], 4.0, 0
    for _, name, _ in entries:
        width = 22 + _w(name)
        if x + width > W and x > 4:
            x, line = 4.0, line + 1
        out.append((x, line))
        x += width
    return out


def _legend_lines(entries: Sequence[tuple[str, str, str]]) -> int:
    return (max(line for _, line in _layout(entries)) + 1) if entries else 0


def _legend(entries: Sequence[tuple[str, str, str]], y0: float) -> str:
    """The legend under a chart, 18 units a line."""
    out = ['<g class="legend">']
    for (kind, name, shape), (x, line) in zip(entries, _layout(entries)):
        y = y0 + line * 18
        mark = (f'<circle cx="{_num(x + 5)}" cy="{_num(y + 8)}" r="4.5"/>' if shape == "dot"
                else f'<rect x="{_num(x)}" y="{_num(y + 3)}" width="10" height="10"/>')
        out.append(f'<g class="{escape(kind)}">{mark}<text x="{_num(x + 14)}" y="{_num(y + 12)}">{escape(name)}</text></g>')
    return "".join(out) + "</g>"


def dots(rows: Sequence[DotRow], *, title: str, lo: float, hi: float, series: Sequence[str],
         ticks: Sequence[float] = (), unit: str = "") -> Markup:
    """Per row, one dot per series (an expert's value), the spread between the lowest and the highest as a line,
    and the group's value as a tick; flagged rows (spread over the threshold) highlighted."""
    lw = _label_w([r.label for r in rows])
    plot = W - lw - 12
    span = (hi - lo) or 1
    x = lambda v: lw + plot * (min(max(v, lo), hi) - lo) / span  # noqa: E731
    head = 16
    legend = [(f"s{i % 6}", name, "dot") for i, name in enumerate(series)]
    height = head + len(rows) * ROW + 6 + _legend_lines(legend) * 18
    body = ['<g class="axis">' + "".join(
        f'<line x1="{_num(x(t))}" x2="{_num(x(t))}" y1="{head - 2}" y2="{_num(head + len(rows) * ROW)}"/>'
        f'<text x="{_num(x(t))}" y="{head - 5}" text-anchor="middle">{escape(_num(t) + unit)}</text>'
        for t in ticks) + "</g>"]
    for i, r in enumerate(rows):
        y = head + i * ROW
        cy = y + ROW / 2
        values = [d.value for d in r.dots]
        body.append(f'<g class="dotrow{" flagged" if r.flagged else ""}" data-label="{escape(r.label)}">'
                    f'<title>{escape(r.title or r.label)}</title>'
                    + (f'<rect class="band" x="0" y="{_num(y + 1)}" width="{W}" height="{ROW - 2}"/>' if r.flagged else "")
                    + f'<text x="{_num(lw - 6)}" y="{_num(cy + 4)}" text-anchor="end">{escape(_fit(r.label, lw - 8))}</text>')
        if values:
            body.append(f'<line class="spread" x1="{_num(x(min(values)))}" x2="{_num(x(max(values)))}" '
                        f'y1="{_num(cy)}" y2="{_num(cy)}"/>')
        if r.centre is not None:
            body.append(f'<line class="centre" data-value="{_num(r.centre)}" x1="{_num(x(r.centre))}" '
                        f'x2="{_num(x(r.centre))}" y1="{_num(cy - 7)}" y2="{_num(cy + 7)}"/>')
        for d in r.dots:
            name = series[d.series] if d.series < len(series) else ""
            body.append(f'<circle class="dot s{d.series % 6}" data-series="{escape(name)}" '
                        f'data-value="{_num(d.value)}" cx="{_num(x(d.value))}" cy="{_num(cy)}" r="4.5">'
                        f'<title>{escape(f"{r.label} · {name}：{d.text or _num(d.value) + unit}")}</title></circle>')
        body.append("</g>")
    body.append(_legend(legend, head + len(rows) * ROW + 6))
    return _svg("dots", title, height, body)
