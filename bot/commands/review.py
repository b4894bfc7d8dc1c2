"""`python -m bot review list|accept|supplement|reject|expire`: the secretariat's formal review from the shell."""
from __future__ import annotations

import click

from workflows import review

from . import base


def register(main: click.Group) -> None:
    """Add the `review` command group."""

    @main.group("review")
    def group() -> None:
        """Formal review (形式审查) and supplement requests (补正)."""

    def run(obj, fn):  # noqa: ANN001, ANN202
        return base.run(obj, lambda s, _now: fn(s, obj.runtime))

    @group.command("list")
    @click.pass_obj
    def review_list(obj) -> None:  # noqa: ANN001
        """Endorsed applications without a decision, and open supplement requests."""
        def fn(s, rt):  # noqa: ANN001, ANN202
            tz = rt.settings.award.tz
            for p in review.pending_for_secretariat(s, rt.settings):
                due = f"  supplement due {p.supplement_deadline.astimezone(tz):%Y-%m-%d %H:%M}" \
                    if p.supplement_deadline else ""
                click.echo(f"{p.number or p.application_id:14} {p.status:11} {p.enterprise_name or ''}{due}")
                r = review.review_for(s, p.application_id)
                for f in review.findings_view(rt.settings, r) if r else []:
                    if not f["resolved"]:
                        click.echo(f"    [{f['source']}] {f['kind']} {f['item_key']} {f['detail']}")
        run(obj, fn)

    @group.command("accept")
    @click.argument("application")
    @click.option("--actor", default="cli", help="Who decides (audit log).")
    @click.pass_obj
    def review_accept(obj, application: str, actor: str) -> None:  # noqa: ANN001
        """受理: move APPLICATION (number or id) on to expert review."""
        def fn(s, rt):  # noqa: ANN001, ANN202
            app = review.find_application(s, rt.settings, application)
            review.accept(s, rt.settings, application_id=app.id, actor=actor, now=rt.clock())
            return app.number or app.id
        click.echo(f"accepted {run(obj, fn)}")

    @group.command("reject")
    @click.argument("application")
    @click.option("--reason", required=True, help="Sent to the applicant as written.")
    @click.option("--actor", default="cli", help="Who decides (audit log).")
    @click.pass_obj
    def review_reject(obj, application: str, reason: str, actor: str) -> None:  # noqa: ANN001
        """不予受理: end APPLICATION with a reason."""
        def fn(s, rt):  # noqa: ANN001, ANN202
            app = review.find_application(s, rt.settings, application)
            review.reject(s, rt.settings, application_id=app.id, reason=reason, actor=actor, now=rt.clock())
            return app.number or app.id
        click.echo(f"rejected {run(obj, fn)}")

    @group.command("supplement")
    @click.argument("application")
    @click.option("--item", "items", multiple=True, required=True, metavar="KEY=REASON",
                  help="A material item key and why it is needed; repeat for several.")
    @click.option("--actor", default="cli", help="Who asks (audit log).")
    @click.pass_obj
    def review_supplement(obj, application: str, items: tuple[str, ...], actor: str) -> None:  # noqa: ANN001
        """需补正: ask the applicant of APPLICATION for items (deadline from the configuration)."""
        wanted = {}
        for item in items:
            key, sep, reason = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item!r} must look like KEY=REASON", param_hint="--item")
            wanted[key.strip()] = reason
        def fn(s, rt):  # noqa: ANN001, ANN202
            app = review.find_application(s, rt.settings, application)
            req = review.request_supplement(s, rt.settings, application_id=app.id, items=wanted, actor=actor,
                                            now=rt.clock())
            return app.number or app.id, req.deadline.astimezone(rt.settings.award.tz)
        number, deadline = run(obj, fn)
        click.echo(f"supplement requested from {number}, due {deadline:%Y-%m-%d %H:%M}")

    @group.command("expire")
    @click.pass_obj
    def review_expire(obj) -> None:  # noqa: ANN001
        """Expire supplement requests past their deadline now (the scheduler's sweep does this too)."""
        ids = run(obj, lambda s, rt: review.expire_due(s, rt.settings, now=rt.clock()))
        click.echo(f"expired {len(ids)}")
