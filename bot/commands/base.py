"""What every operator command shares: one transaction with polite refusals, one clock, the one time parser.

Exit codes (docs/operator.md): 0 done; 1 refused by the award's rules or the edition's state; 2 a bad argument
(unreadable, unknown, not on the roster, `--now` where it may not be used): one line on stderr. Either way
nothing was changed.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, TypeVar

import click

from workflows.core import dates
from workflows.core.errors import DomainError, InvalidInput, NotFound

T = TypeVar("T")


# The data keys of a NotFound that names what the command line named ("no SG2018-099", "no member x").
NAMED = frozenset({"what", "number", "userid", "ref", "member"})


def is_bad_argument(exc: DomainError) -> bool:
    """Whether a refusal means the command line itself was wrong (exit 2): it named something that does not exist
    (a `NotFound` naming it), or a value that cannot be read or is not one of the allowed ones (an `InvalidInput`
    whose code says `unknown_…` or `…bad_…`, like `bad_time`, `committee_bad_quorum`). Every other refusal is a
    rule of the award or the edition's state saying no (exit 1): "no pool yet", "the report is not confirmed"."""
    if isinstance(exc, NotFound):
        return bool(NAMED & exc.data.keys())
    return isinstance(exc, InvalidInput) and ("unknown_" in exc.code or "bad_" in exc.code)


def one_line(text: str) -> str:
    """A message as one terminal line (rendered chat texts may span several)."""
    return " ".join(str(text).split())


def bad_argument(text: str) -> NoReturn:
    """Stop on a bad argument: one line on stderr, exit 2, nothing changed."""
    click.echo(one_line(text), err=True)
    sys.exit(2)


def error_text(rt: Any, exc: DomainError) -> str:
    """A refusal in the chat's own words (the template of its code, told it is read at the terminal: `to` is
    "cli"), for the terminal."""
    try:
        return rt.renderer.text(f"messages/errors/{exc.code}.md.j2", **{**exc.data, "to": "cli"})
    except Exception:  # a code without its own template still says what it was
        return f"{exc.code}: {exc.data}"


def refuse(rt: Any, exc: DomainError) -> NoReturn:
    """Print a refusal in one line and exit: 2 for a bad argument, 1 for a rule's or the state's refusal."""
    text = one_line(f"{exc.code}: {error_text(rt, exc)}")
    if is_bad_argument(exc):
        bad_argument(text)
    click.echo(text, err=True)
    sys.exit(1)


def moment(rt: Any, text: str | None, hint: str | None = None) -> dt.datetime:
    """A time the operator typed (the chat's forms; a date alone is 23:59:59), or the runtime's now; `hint` names
    the option or argument in the message when it cannot be read."""
    if not text:
        return rt.clock()
    try:
        return dates.parse_when(text, rt.settings.award.tz, now=rt.clock())
    except dates.UnreadableTime as exc:
        raise click.BadParameter(one_line(error_text(rt, exc)), param_hint=hint) from None


def day(rt: Any, text: str, hint: str | None = None) -> dt.date:
    """A calendar day the operator typed."""
    try:
        return dates.parse_day(text, rt.settings.award.tz, now=rt.clock())
    except dates.UnreadableTime as exc:
        raise click.BadParameter(one_line(error_text(rt, exc)), param_hint=hint) from None


class Output(click.Path):
    """A path a command will write (a file, a directory, or either): refused before anything is done when it
    cannot be made there (a file stands where a directory must be, or the place is not writable)."""

    def __init__(self, *, file_okay: bool = True, dir_okay: bool = True) -> None:
        super().__init__(file_okay=file_okay, dir_okay=dir_okay)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The path as given, once its nearest existing directory is known to take it."""
        value = super().convert(value, param, ctx)
        path = Path(value)
        start = path if self.dir_okay and (not self.file_okay or path.is_dir()) else path.parent
        place = next((p for p in (start, *start.parents) if p.exists()), Path("."))
        if not place.is_dir():
            self.fail(f"{value}: {place} is a file, not a directory; nothing was done", param, ctx)
        if not os.access(place, os.W_OK):
            self.fail(f"{value}: {place} is not writable; nothing was done", param, ctx)
        return value


OUT_FILE = Output(dir_okay=False)
OUT_DIR = Output(file_okay=False)
OUT_ANY = Output()


def acting_time(obj: Any, text: str | None, *, changes: bool = True) -> dt.datetime:
    """The moment a command acts at: the server's clock, or a `--now` where the deployment allows time travel
    or the command changes nothing (a preview, a report)."""
    rt = obj.runtime
    if text and changes and not rt.settings.server.time_travel:
        where = getattr(obj, "config_path", None) or "the configuration"
        bad_argument(f"--now {text}: refused — this deployment acts at the server's clock "
                     f"([server] time_travel = false in {where}); nothing was changed")
    return moment(rt, text, "--now")


def run(obj: Any, fn: Callable[[Any, dt.datetime], T], now: str | None = None, *, changes: bool = True) -> T:
    """Run fn(session, now) in one transaction; a refusal prints its reason and exits (see the module's codes).
    With `changes=False` the transaction is rolled back whatever fn did: a preview at any `--now`."""
    rt = obj.runtime
    when = acting_time(obj, now, changes=changes)
    try:
        if not changes:
            with rt.sessions() as s:
                try:
                    return fn(s, when)
                finally:
                    s.rollback()
        with rt.sessions.begin() as s:
            return fn(s, when)
    except DomainError as exc:
        refuse(rt, exc)


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


def roster_actor(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`--actor`: the operator's own name (`cli`, …) or an active roster member; anyone else is a bad argument
    (the gate would otherwise answer as if to an applicant)."""
    from workflows.core import access
    if value is None or value in access.SYSTEM_ACTORS:
        return value
    return roster_member(ctx, param, value)


def roster_member(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A USERID that must be an active roster member (a bad argument otherwise)."""
    from workflows.core.models import Person
    if value is None:
        return value
    rt = ctx.obj.runtime
    with rt.sessions() as s:
        person = s.get(Person, value)
        on_roster = person is not None and person.active
    if not on_roster:
        raise click.BadParameter(one_line(error_text(rt, NotFound("not_on_roster", userid=value))))
    return value


def check_actors(group: click.Group) -> None:
    """Give every `--actor` option under `group` the roster check (`roster_actor`)."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            check_actors(command)
        for param in command.params:
            if param.name == "actor" and param.callback is None:
                param.callback = roster_actor


class BadArgument(click.ClickException):
    """A usage error as one line on stderr (exit 2): what was wrong and where `--help` is."""

    exit_code = 2


class OperatorCommands(click.Group):
    """The root command group: every bad argument anywhere below it is one line on stderr and exit 2."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        """Parse the root's own options (a bad one is one line)."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Run the sub-command (its parsing errors and BadParameters are one line)."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None


def _one_line_usage(exc: click.UsageError) -> click.ClickException:
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):  # a bare group: its help is the answer
        return exc
    where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
    return BadArgument(one_line(exc.format_message()) + where)
