"""Every command of `python -m bot`, found by walking the click groups, with a wrong argument: one line on stderr,
exit 2, never a traceback, nothing changed — on a throw-away copy of the example configuration."""
from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from bot.cli import main
from workflows.core.db import make_engine

from ..conftest import ROOT, reset_database
from .cli_helpers import digest

# Options whose value is free text (any value is a value): they are never "wrong". Every other option and every
# argument is read (a time, a number, a choice, a path, something on the roster or in the edition).
FREE_TEXT = {"--reason", "--minutes", "--document", "--findings", "--decisions", "--attendees", "--title", "--place",
             "--itinerary", "--content", "--name", "--reference", "--seed", "--supplement-seed", "--as", "--basis",
             "--office"}
# Plausible values for the other required parameters, so that the wrong one is what the command meets.
PLAUSIBLE = {"--on": "2018-09-20", "--at": "2030-09-25 09:30", "--held-on": "2018-09-10", "--received": "2019-02-03",
             "--date": "2019-02-20", "--until": "2018-11-20", "--via": "letter", "--closes-at": "2030-01-30 17:00",
             "--experts": "zhuanjia1,zhuanjia2", "--enterprise": "SG2018-001", "--approved": "SG2018-001",
             "--winners": "SG2018-001", "--document": "韶府函〔2019〕12号", "--item": "self_report=缺少签章",
             "--actor": "weiyuan1", "--count": "1", "closes_at": "2030-01-30 17:00", "key": "apply", "day": "2030-01-10",
             "time": "09:00", "userid": "zhuanjia1"}
GARBAGE = "nosuch-✗"
# Where the edition's state refuses before the argument is read (here: no training announced yet, so nobody has
# signed up), the refusal is the answer: one line, exit 1.
# Where the state (or who acts) is checked before the argument: exit 1 with that refusal is the right answer.
STATE_FIRST = {("training", "attend"): "training_not_announced", ("experts", "enrol"): "draw_not_made",
               ("committee", "admit"): "confidentiality_required"}   # the chair has not signed his pledge yet


def walk(group: click.Group, path: tuple[str, ...] = ()):
    """(path, command) of every command below `group`, groups included."""
    for name, command in sorted(group.commands.items()):
        yield path + (name,), command
        if isinstance(command, click.Group):
            yield from walk(command, path + (name,))


def takes_value(p: click.Parameter) -> bool:
    return not getattr(p, "is_flag", False) and not getattr(p, "count", False)


def label(p: click.Parameter) -> str:
    return p.opts[0] if isinstance(p, click.Option) else p.name


def wrong(p: click.Parameter, tmp: Path) -> str:
    """A value that cannot be right for the parameter."""
    if isinstance(p.type, click.Path) or p.name.startswith("out"):
        return str(tmp / "plain.txt" / "x.out")       # beneath a file: nothing can be read or written there
    if isinstance(p.type, (click.types.IntParamType, click.types.FloatParamType)):
        return "many"
    return GARBAGE


def fill(p: click.Parameter, tmp: Path) -> str:
    """A value for a required parameter that is not the one under test."""
    if label(p) in FREE_TEXT:
        return "样例文字"
    return PLAUSIBLE.get(label(p), wrong(p, tmp))


def args_for(command: click.Command, tmp: Path, wrong_param: click.Parameter | None) -> list[str]:
    """The command line: the parameter under test wrong, every other required one filled."""
    out: list[str] = []
    for p in command.params:
        if not takes_value(p) or (p is not wrong_param and not p.required):
            continue
        value = wrong(p, tmp) if p is wrong_param else fill(p, tmp)
        out += [value] if isinstance(p, click.Argument) else [p.opts[0], value]
    return out


def cases(tmp: Path):
    """Every command with an unknown option, without its required parameters, and with each parameter wrong."""
    for path, command in walk(main):
        if isinstance(command, click.Group):
            yield path, [*path, "nosuchcommand"]
            continue
        yield path, [*path, "--no-such-option"]
        if any(p.required for p in command.params):
            yield path, list(path)
        for p in command.params:
            if takes_value(p) and label(p) not in FREE_TEXT:
                yield path, [*path, *args_for(command, tmp, p)]


@pytest.fixture
def deployment(tmp_path: Path, settings) -> Path:
    """A copy of config.example.toml as a real deployment would have it (no time travel), with a roster."""
    engine = make_engine(settings.database.url)
    reset_database(engine)
    engine.dispose()
    body = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    body = body.replace('url = "sqlite:///var/awardbot.sqlite3"', f'url = "{settings.database.url}"')
    body = body.replace('dir = "var/uploads"', f'dir = "{tmp_path / "uploads"}"')
    body = body.replace('lock_file = "var/scheduler.lock"', f'lock_file = "{tmp_path / "scheduler.lock"}"')
    assert "time_travel = false" in body
    config = tmp_path / "config.toml"
    config.write_text(body, encoding="utf-8")
    (tmp_path / "plain.txt").write_text("a file, not a directory", encoding="utf-8")
    done = CliRunner().invoke(main, ["--config", str(config), "roster", "import", str(ROOT / "data/demo_roster.csv")])
    assert done.exit_code == 0, done.output
    return config


def test_every_command_with_a_wrong_argument_says_so_in_one_line(deployment, tmp_path, settings, monkeypatch):
    monkeypatch.setattr("bot.migrate.upgrade", lambda engine, revision="head": None)  # migrated by the import
    engine = make_engine(settings.database.url)
    before = digest(engine)
    failures = []
    seen = set()
    for path, argv in cases(tmp_path):
        seen.add(path)
        result = CliRunner().invoke(main, ["--config", str(deployment), *argv])
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        code = 1 if path in STATE_FIRST and STATE_FIRST[path] in result.stderr else 2
        if crashed or result.exit_code != code or len(lines) != 1 or "Traceback" in result.output:
            failures.append(f"{' '.join(argv)} -> exit {result.exit_code}"
                            f"{f' {type(result.exception).__name__}: {result.exception}' if crashed else ''}"
                            f" stderr={result.stderr!r}")
    assert not failures, "\n".join(failures)
    assert digest(engine) == before          # nothing changed
    engine.dispose()
    assert {("stage", "open"), ("roster", "remove"), ("vote", "open")} <= seen
