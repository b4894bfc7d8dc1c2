"""What every operator command shares: one transaction with polite refusals, and the one time parser."""
from __future__ import annotations

import datetime as dt
import sys
from typing import Any, Callable, TypeVar

import click

from workflows.core import dates
from workflows.core.errors import DomainError

T = TypeVar("T")


def error_text(rt: Any, exc: DomainError) -> str:
    """A refusal in the chat's own words (the template of its code), for the terminal."""
    try:
        return rt.renderer.text(f"messages/errors/{exc.code}.md.j2", **exc.data)
    except Exception:  # a code without its own template still says what it was
        return f"{exc.code}: {exc.data}"


def moment(rt: Any, text: str | None) -> dt.datetime:
    """A time the operator typed (the chat's forms; a date alone is 23:59:59), or the runtime's now."""
    if not text:
        return rt.clock()
    try:
        return dates.parse_when(text, rt.settings.award.tz, now=rt.clock())
    except dates.UnreadableTime as exc:
        raise click.BadParameter(error_text(rt, exc)) from None


def day(rt: Any, text: str) -> dt.date:
    """A calendar day the operator typed."""
    try:
        return dates.parse_day(text, rt.settings.award.tz, now=rt.clock())
    except dates.UnreadableTime as exc:
        raise click.BadParameter(error_text(rt, exc)) from None


def run(obj: Any, fn: Callable[[Any, dt.datetime], T], now: str | None = None) -> T:
    """Run fn(session, now) in one transaction; a refused action prints its reason and exits 1."""
    rt = obj.runtime
    when = moment(rt, now)
    try:
        with rt.sessions.begin() as s:
            return fn(s, when)
    except DomainError as exc:
        click.echo(f"{exc.code}: {error_text(rt, exc)}", err=True)
        sys.exit(1)


# Why each example value must go (operator-facing; the settings are listed in workflows/core/placeholders.py).
REPLACE_HINTS = {
    "server.secret_key": "anyone could sign links and workbench sessions with the example key; set a random string "
                         "of at least 32 characters (python -c \"import secrets; print(secrets.token_urlsafe(32))\")",
    "wecom.corp_id": "your corp's CorpID (WeCom admin console: 我的企业 → 企业信息)",
    "wecom.secret": "the app's Secret (WeCom admin console: 应用管理 → the app)",
    "wecom.token": "anyone could sign callbacks with the example; use the app's Token "
                   "(接收消息 → 设置API接收 → 随机获取)",
    "wecom.encoding_aes_key": "anyone could encrypt callbacks with the example; use the app's EncodingAESKey "
                              "(接收消息 → 设置API接收 → 随机获取)",
}


def placeholder_lines(settings: Any, scope: str) -> list[str]:
    """One line per setting of `scope` that still holds an example value (secrets are named, never printed)."""
    from workflows.core import placeholders
    lines = []
    for f in placeholders.found(settings, scope):  # type: ignore[arg-type]
        if f.reason == "short":
            why = f"shorter than {placeholders.SECRET_KEY_MIN} characters; {REPLACE_HINTS[f.key].split('; ', 1)[1]}"
        elif scope == "server":
            why = f"still the example value: {REPLACE_HINTS.get(f.key.split('[')[0], 'replace it')}"
        else:
            why = f"still the example value {f.value!r}: printed in texts the public reads"
        lines.append(f"  {f.key}: {why}")
    return lines


def refuse_placeholders(obj: Any, command: str) -> None:
    """Stop a deployment's process before it starts on example values, listing every one; exit 2."""
    refused = placeholder_lines(obj.settings, "server")
    if not refused:
        return
    public = placeholder_lines(obj.settings, "public")
    lines = [f"配置错误 / configuration error: {obj.config_path} still holds the example configuration's values; "
             f"`{command}` does not start with them. Replace:", *refused]
    if public:
        lines += ["and before `publicity start` / `call publish` (they refuse them):", *public]
    lines.append("Nothing was started.")
    click.echo("\n".join(lines), err=True)
    sys.exit(2)
