"""Jinja2 rendering of notices into WeCom message bodies (all user-facing text is in templates/)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from html import escape
from typing import Any, Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, meta, nodes
from jinja2.defaults import DEFAULT_FILTERS

from workflows.core import numbers
from workflows.scoring.scoresheet import points_text
from workflows.core.settings import Settings

from .wecom import members

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEXT_LIMIT = 2048  # bytes, WeCom text/markdown content
TEXTCARD_TITLE_LIMIT, TEXTCARD_DESC_LIMIT = 128, 512  # bytes, WeCom textcard (longer is cut by WeCom)
GENERIC_TEXTCARD = "cards/_textcard.json.j2"
# Names a template may use and still be a pure function of its data: the edition's constants. Anything
# else from the environment (upload_url & co. sign links with the current time) makes it uncacheable.
CONSTANT_GLOBALS = frozenset({"award", "public_url", "ex", "range", "dict", "namespace"})
PURE_FILTERS = frozenset({"local", "yuan", "md"})
RENDER_CACHE_SIZE = 2048
# What a person typed (an enterprise name, a comment, a reason…) is text in a markdown message: the
# characters of WeCom's markdown subset (links `[..](..)`, `**bold**`, `` `code` ``, `# heading`, `> quote`,
# `<font>`) become their full-width look-alikes, which WeCom shows as typed and never interprets (it
# documents no backslash escape). Applied to every string of a markdown notice's data (`md_data`), except
# links and identifiers the system itself made: keys ending in "url" or "key" (a configuration key such as
# `award.call.contacts[0].phone`, an item key), and "link" (an http(s) address the secretariat typed).
MD_SPECIAL = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞", "*": "＊", "`": "｀", "#": "＃"})


def md_text(value: str) -> str:
    """Text safe to place in a WeCom markdown message: no markdown syntax left in it."""
    return value.translate(MD_SPECIAL)


def _raw_key(key: object) -> bool:
    return isinstance(key, str) and (key.endswith(("url", "key")) or key == "link")


def md_data(value: Any, key: object = None) -> Any:
    """A notice's (JSON) data with every string made markdown-safe (`md_text`), links kept as they are."""
    if isinstance(value, str):
        return value if _raw_key(key) else md_text(value)
    if isinstance(value, dict):
        return {k: md_data(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [md_data(v, key) for v in value]
    return value


class Examples:
    """Examples for help and error texts drawn from the edition's own calendar and numbering (`ex.*` in
    templates), so a 2026 calendar never shows "延期 SG2018-001 2018-11-20"."""

    def __init__(self, settings: Settings) -> None:
        award, tz = settings.award, settings.award.tz
        day = {s.key: s.deadline.astimezone(tz).date() for s in award.stages}  # calendar_shift_days applied
        self.app, self.app2, self.app3 = (numbers.format_number(settings, "application", n) for n in (1, 2, 3))
        self.complaint = numbers.format_number(settings, "complaint", 1)
        self.complaint_day = f"{day['publicity'] - dt.timedelta(days=20):%Y-%m-%d}"  # a day inside a likely notice
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
        self.env.filters["score"] = points_text   # one precision for every score shown (two decimals)
        self.env.filters["md"] = md_text          # for text a markdown template gets from elsewhere than its data
        self.env.globals["award"] = settings.award
        self.env.globals["public_url"] = settings.server.public_url
        self.env.globals["ex"] = Examples(settings)
        self._found: dict[str, tuple[str, str]] = {}
        self._pure: dict[str, frozenset[str] | None] = {}   # template → the names it reads, None if impure
        self._rendered: dict[tuple[str, str], str] = {}     # (template, its inputs as JSON) → text
        self._marks: dict[tuple[int, dt.datetime], str] = {}  # (n, minute) → a repeat mark's line
        # The page that stands in for an interactive card (set by bot.web.install_links).
        self.card_link: Callable[[str, str], str] | None = None

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
        """Render a notice to one or more message bodies (long text is split).

        A linked-corp member ("CorpID/UserID") gets a linkedcorp/message/send body: `touser` is a list, and
        an interactive card, which that endpoint cannot carry, becomes a textcard linking to the card's page.
        """
        name, fmt = self._find(kind)
        rendered = self._render(name, md_data(data) if fmt == "markdown" else data, recipient)
        linked = members.is_linked(recipient)
        common: dict[str, Any] = members.addressed(recipient, self.settings.wecom.agent_id)
        if not linked:  # linkedcorp/message/send documents no duplicate check (docs/reliability.md)
            common |= {"enable_duplicate_check": 1,
                       "duplicate_check_interval": self.settings.sender.duplicate_check_interval}
        if fmt == "card":
            card = json.loads(rendered)
            if linked:
                return [{**common, "msgtype": "textcard", "textcard": self.card_textcard(recipient, kind, card)}]
            return [{**common, "msgtype": "template_card", "template_card": card}]
        return [{**common, "msgtype": fmt, fmt: {"content": part}} for part in split_text(rendered, TEXT_LIMIT)]

    def repeat_mark(self, body: dict[str, Any], n: int, now: dt.datetime) -> dict[str, Any] | None:
        """The body of a text or markdown message that repeats, word for word, one the member got within WeCom's
        duplicate-check interval, with a short "n-th time" line so WeCom delivers it (docs/reliability.md); None
        for what cannot carry one (a card has its own task_id, so it never repeats)."""
        kind = body.get("msgtype")
        if kind not in ("text", "markdown"):
            return None
        key = (n, now.replace(second=0, microsecond=0))  # the mark shows the minute: one rendering per (n, minute)
        mark = self._marks.get(key)
        if mark is None:
            if len(self._marks) >= RENDER_CACHE_SIZE:
                self._marks.clear()
            mark = self._marks[key] = self.text("messages/_repeat.j2", n=n, at=now)
        content = str(body[kind]["content"])
        room = TEXT_LIMIT - len(("\n" + mark).encode())
        return {**body, kind: {**body[kind], "content": cut_bytes(content, room) + "\n" + mark}}

    def _render(self, name: str, data: dict[str, Any], recipient: str) -> str:
        """Render a notice template; a pure one (only its data and the edition's constants) is rendered once
        per distinct input and its text reused (help, errors and reminders repeat the same inputs)."""
        reads = self._reads(name)
        if reads is None:
            return self.env.get_template(name).render(**data, to=recipient).strip()
        try:
            key = (name, json.dumps([recipient if "to" in reads else None,
                                     {k: v for k, v in data.items() if k in reads}],
                                    sort_keys=True, ensure_ascii=False))
        except (TypeError, ValueError):  # not JSON data: render every time
            return self.env.get_template(name).render(**data, to=recipient).strip()
        text = self._rendered.get(key)
        if text is None:
            text = self.env.get_template(name).render(**data, to=recipient).strip()
            if len(self._rendered) >= RENDER_CACHE_SIZE:
                self._rendered.clear()
            self._rendered[key] = text
        return text

    def _reads(self, name: str) -> frozenset[str] | None:
        """The data names a template (and what it imports) reads, or None if it uses anything but its data,
        the edition's constants and pure filters."""
        if name in self._pure:
            return self._pure[name]
        self._pure[name] = None  # an import cycle is treated as impure
        reads: frozenset[str] | None = frozenset()
        source = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
        ast = self.env.parse(source)
        # Every name loaded (a superset of what it reads from outside: loop variables too).
        names = {n.name for n in ast.find_all(nodes.Name) if n.ctx == "load"}
        filters = {f.name for f in ast.find_all(nodes.Filter)}
        if (names & (set(self.env.globals) - CONSTANT_GLOBALS)
                or any(f not in PURE_FILTERS and self.env.filters.get(f) is not DEFAULT_FILTERS.get(f, False)
                       for f in filters)):
            reads = None
        for ref in meta.find_referenced_templates(ast):
            if reads is None:
                break
            sub = self._reads(ref) if ref else None
            reads = None if sub is None else reads | sub
        if reads is not None:
            reads = reads | (names - CONSTANT_GLOBALS)
        self._pure[name] = reads
        return reads

    def card_template(self, kind: str) -> str:
        """The template of an interactive card kind (for its page)."""
        name, fmt = self._find(kind)
        if fmt != "card":
            raise TemplateNotFound(f"{kind!r} is not a card")
        return name

    def card_json(self, recipient: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """The template_card a notice of `kind` renders to (the card page shows the same thing)."""
        return json.loads(self.env.get_template(self.card_template(kind)).render(**data, to=recipient))

    def card_textcard(self, recipient: str, kind: str, card: dict[str, Any]) -> dict[str, Any]:
        """The textcard that stands in for an interactive card: a card kind's own
        `cards/<kind>.textcard.json.j2` if it declares one, else the generic one; it links to the card's page."""
        if self.card_link is None:
            raise RuntimeError("no card page link installed (bot.web.install_links)")
        own = self.card_template(kind).replace(".json.j2", ".textcard.json.j2")
        try:
            template = self.env.get_template(own)
        except TemplateNotFound:
            template = self.env.get_template(GENERIC_TEXTCARD)
        spec = json.loads(template.render(card=card, to=recipient))
        description = ""
        for line in spec.get("lines") or []:
            text = str(line.get("text") or "").strip()
            if not text:
                continue
            css = str(line.get("class") or "")
            head, tail = (f'<div class="{escape(css)}">' if css else "<div>"), "</div>"
            room = TEXTCARD_DESC_LIMIT - len((description + head + tail).encode())
            body = escape(text)
            if len(body.encode()) > room:  # the last line that fits is cut (never inside an entity), then stop
                cut = cut_bytes(text, max(0, room - 3))
                while cut and len(escape(cut).encode()) > room - 3:  # "…" is 3 bytes
                    cut = cut[:-1]
                if cut:
                    description += head + escape(cut) + "…" + tail
                break
            description += head + body + tail
        title = cut_bytes(str(spec.get("title") or ""), TEXTCARD_TITLE_LIMIT)
        return {"title": title, "description": description,
                "url": self.card_link(str(card.get("task_id") or ""), recipient),
                "btntxt": str(spec.get("btntxt") or "")[:4]}

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


def cut_bytes(text: str, limit: int) -> str:
    """The longest prefix of `text` that fits in `limit` UTF-8 bytes."""
    encoded = text.encode()
    return text if len(encoded) <= limit else encoded[:limit].decode("utf-8", "ignore")


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
