"""Helpers for command-line tests: the commands as `python -m bot` has them, on the test's runtime; a digest of
every table (to prove a refused command changed nothing)."""
from __future__ import annotations

import hashlib
from typing import Any

import click
from click.testing import CliRunner, Result
from sqlalchemy import Engine, MetaData, select

from bot import commands
from bot.commands import base


class Obj:
    """What `python -m bot` passes to its commands: here the test's runtime (its frozen clock, its settings)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime


def operator_cli() -> click.Group:
    """Every flow's commands under one root, as `bot.cli.main` registers them (with the --actor roster check)."""
    root = base.OperatorCommands("bot")
    commands.register_all(root)
    base.check_actors(root)
    return root


def invoke(rt: Any, *args: str) -> Result:
    """Run one command line against the runtime `rt`."""
    return CliRunner().invoke(operator_cli(), list(args), obj=Obj(rt))


def digest(engine: Engine) -> str:
    """Every row of every table."""
    meta = MetaData()
    meta.reflect(engine)
    h = hashlib.sha256()
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                h.update(repr((table.name, tuple(row))).encode())
    return h.hexdigest()
