"""`python -m bot remind [--now ISO] [--dry-run]` and `python -m bot scheduler`."""
from __future__ import annotations

import datetime as dt
import signal
import sys
import threading

import click

from . import base

FUTURE_TOLERANCE = dt.timedelta(minutes=1)  # a --now this close to the clock is "now"


def register(main: click.Group) -> None:
    """Add the remind and scheduler commands."""
    main.add_command(remind)
    main.add_command(scheduler)


@click.command()
@click.option("--now", "now_text", metavar="ISO",
              help="Act as if it were this time (2019-01-29 09:00, 2019/1/29, 1月29日 …; without an offset: the award's "
                   "time zone). A time in the future only previews (--dry-run implied); a past one sends only where "
                   "[server] time_travel is on.")
@click.option("--dry-run", is_flag=True, help="List the reminders that are due without sending anything.")
@click.pass_obj
def remind(obj, now_text: str | None, dry_run: bool) -> None:  # noqa: ANN001
    """Send every reminder that is due now (each exactly once; safe to run repeatedly)."""
    from bot.scheduler import remind as run
    rt = obj.runtime
    try:
        now = base.moment(rt, now_text, "--now")
        # A pass "at" a later time would queue today's texts for then and claim the real reminders, which
        # would then never go out: a future --now only previews.
        preview = now - rt.clock() > FUTURE_TOLERANCE
        if not (dry_run or preview):  # a pass that sends acts at the server's clock (one clock)
            base.acting_time(obj, now_text)
        planned = run(rt, now=now, dry_run=dry_run or preview)
    finally:
        rt.engine.dispose()
    tz = rt.settings.award.tz
    if preview and not dry_run:
        click.echo(f"preview only: {now.astimezone(tz):%Y-%m-%d %H:%M %Z} is in the future, so nothing was sent "
                   "or claimed (--dry-run implied); the scheduler sends these when they are due")
    verb = "would send" if dry_run or preview else "sent"
    for p in planned:
        ob = p.obligation
        click.echo(f"{verb} {p.offset:>4} {ob.kind:18} to {ob.recipient:20} "
                   f"deadline {ob.deadline.astimezone(tz):%Y-%m-%d %H:%M} ({ob.deadline_key})")
    click.echo(f"{len(planned)} reminder(s) {verb} at {now.astimezone(tz):%Y-%m-%d %H:%M:%S %Z}")


@click.command()
@click.option("--forget-job", metavar="ID",
              help="Delete a persisted job that can no longer be restored, then exit.")
@click.pass_obj
def scheduler(obj, forget_job: str | None) -> None:  # noqa: ANN001
    """Run the one scheduler in the foreground (others wait in standby until it stops)."""
    from bot.scheduler import SchedulerStartupError, forget_job as forget, run_foreground
    if not forget_job:
        base.refuse_placeholders(obj, "scheduler")
    rt = obj.runtime
    try:
        if forget_job:
            if not forget(rt.engine, forget_job):
                base.bad_argument(f"--forget-job {forget_job}: no such persisted job; nothing was done")
            click.echo(f"job {forget_job!r} deleted")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        run_foreground(rt, stop, on_state=lambda state: click.echo(f"scheduler: {state}"))
    except SchedulerStartupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(3)
    except KeyboardInterrupt:
        pass  # run_foreground has shut the scheduler down
    finally:
        rt.engine.dispose()
