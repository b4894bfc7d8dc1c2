"""Render inbox entries (messages and card updates sent to a user) as plain terminal text."""

from __future__ import annotations

import re
from typing import Any

_FONT = re.compile(r"</?font\b[^>]*>", re.I)
_BREAK = re.compile(r"<br\s*/?>|</div>", re.I)
_TAG = re.compile(r"<[^>]+>")
CARD_LABELS = {
    "text_notice": "通知", "news_notice": "图文通知", "button_interaction": "按钮卡片",
    "vote_interaction": "投票卡片", "multiple_interaction": "多项选择卡片",
}


def clean_markdown(text: str) -> str:
    """Strip WeCom <font> tags from markdown; keep the rest readable as is."""
    return _FONT.sub("", text)


def strip_html(text: str) -> str:
    """Turn textcard description HTML into plain lines."""
    return _TAG.sub("", _BREAK.sub("\n", text)).strip()


def _box(lines: list[str]) -> list[str]:
    # Only a left border: CJK widths make right borders ragged in most terminals.
    rule = "─" * 36
    return ["┌" + rule] + ["│ " + line for body in lines for line in str(body).split("\n")] + ["└" + rule]


def card_disabled_text(entry: dict) -> str | None:
    """The grey 'done' text of a card the bot disabled (button.replace_name or an updated card's replace_text)."""
    if entry.get("replace_name"):
        return entry["replace_name"]
    card = entry.get("card") or {}
    updated = entry.get("kind") == "card_update" or card != (entry.get("body") or {}).get("template_card")
    return card.get("replace_text") if updated else None


def render_card(card: dict, disabled: str | None = None) -> list[str]:
    """Boxed summary of a template_card with numbered buttons / options."""
    ctype = card.get("card_type", "")
    lines = [f"[{CARD_LABELS.get(ctype, ctype)}]" + (f" {card['source']['desc']}" if card.get("source", {}).get("desc") else "")]
    title = card.get("main_title") or {}
    lines += [f"【{title['title']}】"] if title.get("title") else []
    lines += [title["desc"]] if title.get("desc") else []
    emph = card.get("emphasis_content") or {}
    if emph.get("title"):
        lines.append(f"{emph['title']} {emph.get('desc', '')}".rstrip())
    quote = card.get("quote_area") or {}
    lines += [f"“{quote.get('title') or ''} {quote.get('quote_text') or ''}”".replace("“ ", "“")] \
        if quote.get("quote_text") or quote.get("title") else []
    lines += [card["sub_title_text"]] if card.get("sub_title_text") else []
    for item in card.get("horizontal_content_list") or []:
        lines.append(f"{item.get('keyname', '')}: {item.get('value', '')}")
    for jump in card.get("jump_list") or []:
        lines.append(f"↗ {jump.get('title', '')} {jump.get('url', '')}".rstrip())
    if disabled:
        return _box(lines + [f"[{disabled}] (已处理，不可再点)"])
    selection = card.get("button_selection")
    if selection:
        lines.append(f"{selection.get('title', '选择')}: " + _options(selection))
    buttons = [b for b in card.get("button_list") or []]
    if buttons:
        lines.append("  ".join(f"[{i}] {b.get('text', '')}" for i, b in enumerate(buttons, 1)))
        lines.append("→ /click N" + (" [选项号]" if selection else ""))
    checkbox = card.get("checkbox")
    if checkbox:
        mode = "多选" if checkbox.get("mode") == 1 else "单选"
        lines.append(f"({mode})")
        for i, opt in enumerate(checkbox.get("option_list") or [], 1):
            lines.append(f"[{i}] [{'x' if opt.get('is_checked') else ' '}] {opt.get('text', '')}")
    for q, sel in enumerate(card.get("select_list") or [], 1):
        lines.append(f"Q{q} {sel.get('title', '')}: " + _options(sel))
    if card.get("submit_button"):
        hint = "/vote N N ..." if checkbox else "/select Q=N ..."
        lines.append(f"[{card['submit_button'].get('text') or '提交'}] → {hint}")
    return _box(lines)


def _options(question: dict) -> str:
    chosen = question.get("selected_id")
    return "  ".join(f"{i}) {o.get('text', '')}{'*' if o.get('id') == chosen else ''}"
                     for i, o in enumerate(question.get("option_list") or [], 1))


def render_entry(entry: dict) -> str:
    """Render one inbox entry as terminal text."""
    if entry.get("kind") == "sent":  # what the member sent from the simulator page
        media = entry.get("media") or {}
        return f"you (browser)> {entry.get('content') or '[' + entry.get('msgtype', '') + '] ' + media.get('filename', '')}"
    if entry.get("kind") == "failed":
        return f"(not delivered to the bot: {entry.get('reason', '')})"
    if entry.get("kind") == "card_update":
        card = entry.get("card") or {}
        return "bot> (卡片已更新)\n" + "\n".join(render_card(card, card_disabled_text(entry)))
    body: dict[str, Any] = entry.get("body") or {}
    msgtype = entry.get("msgtype") or body.get("msgtype")
    content = body.get(msgtype) or {}
    if msgtype == "text":
        return f"bot> {content.get('content', '')}"
    if msgtype == "markdown":
        return f"bot> {clean_markdown(content.get('content', ''))}"
    if msgtype == "textcard":
        lines = [f"【{content.get('title', '')}】", strip_html(content.get("description", ""))]
        lines.append(f"[{content.get('btntxt') or '详情'}] {content.get('url', '')}")
        return "bot>\n" + "\n".join(_box(lines))
    if msgtype == "template_card":
        card = entry.get("card") or content
        return "bot>\n" + "\n".join(render_card(card, card_disabled_text(entry)))
    if msgtype in ("file", "image", "voice", "video"):
        media = entry.get("media") or {}
        name = media.get("filename") or content.get("media_id", "")
        return f"bot> [{msgtype}] {name}" + (f" ({media['size']} bytes)" if media.get("size") else "")
    if msgtype in ("news", "mpnews"):
        articles = content.get("articles") or []
        return "bot>\n" + "\n".join(_box([f"• {a.get('title', '')} {a.get('url', '')}".rstrip() for a in articles]))
    return f"bot> [{msgtype}]"
