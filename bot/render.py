"""Jinja2 rendering of notices into WeCom message bodies (all user-facing text is in templates/)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from workflows.core import numbers
from workflows.core.settings import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEXT_LIMIT = 2048  # bytes, WeCom text/markdown content


class Examples:
    """Examples for help and error texts drawn from the edition's own calendar and numbering (`ex.*` in
    templates), so a 2026 calendar never shows "延期 SG2018-001 2018-11-20"."""

    def __init__(self, settings: Settings) -> None:
        award, tz = settings.award, settings.award.tz
        day = {s.key: s.deadline.astimezone(tz).date() for s in award.stages}  # calendar_shift_days applied
        self.app, self.app2, self.app3 = (numbers.format_number(settings, "application", n) for n in (1, 2, 3))
        self.complaint = numbers.format_number(settings, "complaint", 1)
        self.apply_extend = f"{day['apply'] + dt.timedelta(days=5):%Y-%m-%d} 18:00"
        self.vote_close = f"{day['vote']:%Y-%m-%d} 17:00"
        self.vote_extend = f"{day['vote'] + dt.timedelta(days=2):%Y-%m-%d} 17:00"
        self.approval_day = f"{day['approval'] - dt.timedelta(days=10):%Y-%m-%d}"
        self.approval_doc = f"{award.city[:1]}府函〔{day['approval'].year}〕12号"
        self.day = f"{day['apply']:%Y-%m-%d}"
        self.day_slash = f"{day['apply'].year}/{day['apply'].month}/{day['apply'].day}"
        self.day_cn = f"{day['apply'].month}月{day['apply'].day}日"
        self.day_full_cn = f"{day['apply'].year}年{day['apply'].month}月{day['apply'].day}日"


class Renderer:
    """Turns (kind, data) into message/send or update_template_card bodies."""

    def __init__(self, settings: Settings, templates: Path = TEMPLATES) -> None:
        self.settings = settings
        self.env = Environment(loader=FileSystemLoader(str(templates)), undefined=StrictUndefined,
                               autoescape=False, keep_trailing_newline=False, auto_reload=False, trim_blocks=True, lstrip_blocks=True)
        self.env.filters["local"] = self.local_time
        self.env.filters["yuan"] = lambda v: f"{int(v):,}"
        self.env.globals["award"] = settings.award
        self.env.globals["public_url"] = settings.server.public_url
        self.env.globals["ex"] = Examples(settings)
        self._found: dict[str, tuple[str, str]] = {}

    def local_time(self, value: dt.datetime | str | None, fmt: str = "%Y年%m月%d日 %H:%M") -> str:
        """Show a stored UTC time in the award's time zone."""
        if value is None:
            return ""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(self.settings.award.tz).strftime(fmt)

    def _find(self, kind: str) -> tuple[str, str]:
        found = self._found.get(kind)
        if found is None:
            found = self._found[kind] = self._lookup(kind)
        return found

    def _lookup(self, kind: str) -> tuple[str, str]:
        path = kind.replace(".", "/")
        for name, fmt in ((f"cards/{path}.json.j2", "card"), (f"messages/{path}.md.j2", "markdown"),
                          (f"messages/{path}.txt.j2", "text")):
            try:
                self.env.get_template(name)
                return name, fmt
            except TemplateNotFound:
                continue
        if kind.startswith("errors.") and kind != "errors.invalid_input":
            return self._find("errors.invalid_input")
        raise TemplateNotFound(f"no template for notice kind {kind!r}")

    def text(self, name: str, **data: Any) -> str:
        """Render a template by path to a string (reports, pages, chat text)."""
        return self.env.get_template(name).render(**data).strip()

    def message(self, recipient: str, kind: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Render a notice to one or more message/send bodies (long text is split)."""
        name, fmt = self._find(kind)
        rendered = self.env.get_template(name).render(**data, to=recipient).strip()
        common = {"touser": recipient, "agentid": self.settings.wecom.agent_id}
        if not data.get("_reply"):
            common |= {"enable_duplicate_check": 1,
                       "duplicate_check_interval": self.settings.sender.duplicate_check_interval}
        if fmt == "card":
            return [{**common, "msgtype": "template_card", "template_card": json.loads(rendered)}]
        return [{**common, "msgtype": fmt, fmt: {"content": part}} for part in split_text(rendered, TEXT_LIMIT)]

    def card_update(self, recipient: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """Render an update_template_card body replacing one member's card."""
        body: dict[str, Any] = {"userids": [recipient], "agentid": self.settings.wecom.agent_id,
                                "response_code": data["response_code"]}
        if "replace_name" in data:
            # A label key from templates/_labels.j2 `buttons` (the grey text the member sees).
            labels = self.env.get_template("_labels.j2").module.buttons  # type: ignore[attr-defined]
            body["button"] = {"replace_name": labels.get(data["replace_name"], data["replace_name"])}
        else:
            name, _ = self._find(kind)
            body["template_card"] = json.loads(self.env.get_template(name).render(**data, to=recipient))
        return body


def split_text(text: str, limit: int) -> list[str]:
    """Split text at line boundaries into parts of at most `limit` UTF-8 bytes."""
    parts, current = [], ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:  # a single over-long line: cut by characters
            cut = line
            while len(cut.encode()) > limit:
                cut = cut[: max(1, len(cut) * limit // len(cut.encode()) - 1)]
            if current:
                parts.append(current.rstrip("\n"))
                current = ""
            parts.append(cut)
            line = line[len(cut):]
        if len((current + line).encode()) > limit:
            parts.append(current.rstrip("\n"))
            current = ""
        current += line
    if current.strip() or not parts:
        parts.append(current.rstrip("\n"))
    return parts
