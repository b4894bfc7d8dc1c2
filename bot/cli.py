"""The command line: thin click wrappers over plain functions (see README for every command)."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from . import commands
from .commands import base

from workflows.core.settings import ConfigError, Settings, load_settings

DEFAULT_CONFIG = "config.example.toml"


class Obj:
    """Lazily loaded settings and runtime shared by subcommands."""

    def __init__(self, config_path: str) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None
        self._runtime = None

    @property
    def settings(self) -> Settings:
        """The validated settings (exit with a message naming the bad key)."""
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                click.echo(f"配置错误 / configuration error:\n{exc}", err=True)
                sys.exit(2)
        return self._settings

    def close(self) -> None:
        """Close the runtime's database connections (after the command)."""
        if self._runtime is not None:
            self._runtime.engine.dispose()

    def use(self, settings: Settings) -> None:
        """Replace the settings (demo shifts the calendar, points WeCom at the stand-in)."""
        self._settings, self._runtime = settings, None

    @property
    def runtime(self):  # noqa: ANN201
        """The runtime built from settings (database migrated); refuses to work on the wrong database."""
        if self._runtime is None:
            from .migrate import upgrade
            from .runtime import build_runtime
            setup = _command_path() in SETUP_COMMANDS
            if not setup and _sqlite_file_missing(self.settings.database.url):
                self._wrong_database("does not exist")
            self._runtime = build_runtime(self.settings)
            upgrade(self._runtime.engine)
            if not setup and not _has_edition_data(self._runtime):
                self._wrong_database(f"holds no data of edition {self.settings.award.edition_key!r} "
                                     f"({self.settings.award.edition_name})")
        return self._runtime

    def _wrong_database(self, what: str) -> None:
        """Stop before a command works silently on an empty or missing database."""
        from sqlalchemy.engine import make_url

        from .commands.demo import DEMO_CONFIG
        url = make_url(self.settings.database.url).render_as_string(hide_password=True)
        lines = [f"the database {url} {what} (configuration: {self.config_path}).",
                 "Nothing was done. Is this the right --config?"]
        if DEMO_CONFIG.exists() and Path(self.config_path).resolve() != DEMO_CONFIG.resolve():
            lines.append(f"The demo's database: python -m bot --config {DEMO_CONFIG} …")
        lines.append("A new edition starts with `db upgrade`, `roster import FILE.csv` and `stage open KEY` "
                     "(a demo or training copy with [server] time_travel = true: `sample --until STAGE`).")
        click.echo("\n".join(lines), err=True)
        sys.exit(2)


# Commands that create, fill or serve a database: they may run on an empty one. Every other command
# refuses a missing SQLite file or a database without the edition's data, instead of "succeeding" on it.
SETUP_COMMANDS = {"db upgrade", "demo", "serve", "sender", "scheduler", "sample", "roster import", "stage open",
                  "chat", "experts pool import", "plan record"}


def _command_path() -> str:
    """The invoked sub-command as typed, e.g. "roster import"."""
    ctx, names = click.get_current_context(silent=True), []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def _sqlite_file_missing(url: str) -> bool:
    from sqlalchemy.engine import make_url
    u = make_url(url)
    return u.get_backend_name() == "sqlite" and bool(u.database) and u.database != ":memory:" \
        and not Path(u.database).exists()


def _has_edition_data(rt) -> bool:  # noqa: ANN001
    """Whether anything of this edition is stored: a stage opened, a roster, an application, an audit entry."""
    from sqlalchemy import exists, select

    from workflows.apply.models import Application
    from workflows.core.models import AuditEntry, Person, StageState
    edition = rt.settings.award.edition_key
    with rt.sessions() as s:
        return bool(s.scalar(select(exists().where(StageState.edition == edition)))
                    or s.scalar(select(exists().where(Application.edition == edition)))
                    or s.scalar(select(exists().where(Person.userid.is_not(None))))
                    or s.scalar(select(exists().where(AuditEntry.id.is_not(None)))))


@click.group(cls=base.OperatorCommands)
@click.option("--config", "config_path", envvar="AWARDBOT_CONFIG", default=DEFAULT_CONFIG, show_default=True,
              help="TOML configuration file (also AWARDBOT_CONFIG).")
@click.option("-v", "--verbose", is_flag=True, help="Log debug output.")
@click.pass_context
def main(ctx: click.Context, config_path: str, verbose: bool) -> None:
    """质量奖评审助手 — operator commands."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = Obj(config_path)
    ctx.call_on_close(ctx.obj.close)   # the command's connections end with it (one process may run many: tests)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Obj) -> None:
    """Create or migrate the database schema to the latest version."""
    from .migrate import upgrade
    from workflows.core.db import make_engine
    upgrade(make_engine(obj.settings.database.url))
    click.echo(f"database ready: {obj.settings.database.url}")


@main.group()
def outbox() -> None:
    """The outbound message queue."""


@outbox.command("status")
@click.pass_obj
def outbox_status(obj: Obj) -> None:
    """Counts by status and the latest permanent failures."""
    from . import outbox as ob
    from .wecom.client import scrub
    rt = obj.runtime
    with rt.sessions() as s:
        st = ob.status(s, rt.clock())
        click.echo(f"pending={st.pending} sending={st.sending} sent={st.sent} dead={st.dead} "
                   f"oldest_pending_seconds={st.oldest_pending_seconds}")
        for row in ob.dead_rows(s):
            click.echo(f"  dead #{row.id} to={row.recipient} kind={row.kind} attempts={row.attempts}: "
                       f"{scrub(row.last_error or '')}")


@main.command()
@click.option("--no-sender", is_flag=True, help="Do not run the outbox sender thread.")
@click.option("--no-scheduler", is_flag=True, help="Do not run the scheduler (a dedicated one runs).")
@click.pass_obj
def serve(obj: Obj, no_sender: bool, no_scheduler: bool) -> None:
    """Run the webhook with a production WSGI server (waitress), the sender and the scheduler."""
    from .commands.base import refuse_placeholders
    from .serve import serve as run
    refuse_placeholders(obj, "serve")
    run(obj.runtime, sender=not no_sender,
        scheduler=obj.settings.scheduler.run_in_serve and not no_scheduler, production=True)


@main.command()
@click.pass_obj
def sender(obj: Obj) -> None:
    """Run only the outbox sender (several may run on PostgreSQL)."""
    from .commands.base import refuse_placeholders
    from .serve import run_sender_forever
    refuse_placeholders(obj, "sender")
    run_sender_forever(obj.runtime)


commands.register_all(main)  # the flows' own command groups
base.check_actors(main)       # every --actor is the operator's own name or an active roster member
if os.environ.get("AWARDBOT_CLI_DEBUG"):
    logging.getLogger().setLevel(logging.DEBUG)
