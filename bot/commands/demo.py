"""`demo`, `chat --as` and `sample --until`: the embedded default, a terminal chat, a sample edition.

The demo keeps everything under `var/demo/`: its own configuration file (`config.toml`: the calendar shift,
its database, its uploads, its ports, the WeCom stand-in's address), so every CLI command can be pointed at
the demo with the `--config` the banner prints. A demo started again at the same stage reuses its database
and says so; `--fresh` (or another `--until`) starts clean. `--port P` puts the webhook on P and the WeCom
stand-in (with its simulator page, docs/simulator.md) on P+1; a busy port stops it before anything else.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shutil
import signal
import socket
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import click
import tomli_w

from . import base as commands

DEMO_DIR = Path("var/demo")
DEMO_CONFIG = DEMO_DIR / "config.toml"
DEMO_STATE = DEMO_DIR / "state.json"
DEMO_DB_FILE = DEMO_DIR / "demo.sqlite3"
# Applicants the demo offers besides the sample's enterprises: new userids (not on the roster), with the
# names the WeCom stand-in's directory gives them.
NEW_APPLICANTS = {"qiye1": "林志明", "qiye2": "何晓燕", "qiye3": "罗建军"}
# A contact of an enterprise with its own WeCom corp, using the app as a linked-corp member (docs/reach.md).
LINKED_APPLICANTS = {"wwlinkedqiye0001/lisi": "李四"}
ROLE_ORDER = ("secretariat", "recommender", "expert_leader", "expert", "committee_chair", "committee")
# What the demo writes where the base configuration still holds an example value (workflows/core/placeholders.py),
# so that its public notice and call are printed and `serve` starts: plausible, and plainly a demo's.
DEMO_CONTACTS = {"award.secretariat.phone": "0751-8123456",
                 "award.secretariat.address": "韶关市武江区 市政府质量奖评审委员会秘书处（演示）",
                 "award.call.contacts[].phone": "0751-8123457"}


@dataclass(frozen=True)
class Prepared:
    """A demo directory ready to serve: its config file, its calendar and whether its database was reused."""

    config: Path
    state: dict
    reused: bool
    replaced: str  # the stage of a previous demo that was cleared ("" if none)


def prepare(base_config: Path, base, *, until: str, days_left: int, fresh: bool, api_url: str,  # noqa: ANN001
            today: dt.date, root: Path = DEMO_DIR, port: int | None = None) -> Prepared:
    """Reuse or clear the demo directory and write its config file (the base config plus the demo's overrides:
    the calendar shift, its files, the stand-in's address and, with `port`, the webhook's port and public_url)."""
    state_file, db_file, config = root / "state.json", root / "demo.sqlite3", root / "config.toml"
    state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.exists() else {}
    reused = bool(state) and not fresh and state.get("until") == until and db_file.exists()
    replaced = "" if reused or fresh or not state else str(state.get("until", ""))
    if not reused:
        shutil.rmtree(root, ignore_errors=True)
        deadline = base.award.stage(until).deadline.astimezone(base.award.tz).date()
        target = today + dt.timedelta(days=days_left)
        state = {"shift_days": (target - deadline).days, "until": until, "created": today.isoformat()}
    root.mkdir(parents=True, exist_ok=True)
    raw = tomllib.loads(base_config.read_text(encoding="utf-8"))
    award = raw.setdefault("award", {})
    award["calendar_shift_days"] = int(award.get("calendar_shift_days", 0)) + state["shift_days"]
    raw.setdefault("database", {})["url"] = f"sqlite:///{db_file}"
    wecom = raw.setdefault("wecom", {})
    # The stand-in is the API and also plays WeCom's sign-in pages for the workbench (/admin).
    wecom["api_base_url"] = wecom["oauth_base_url"] = wecom["login_base_url"] = api_url
    storage = raw.setdefault("storage", {})
    storage["dir"], storage["publications_dir"] = str(root / "uploads"), str(root / "notices")
    raw.setdefault("scheduler", {})["lock_file"] = str(root / "scheduler.lock")
    if port is not None:  # the phones (the simulator page) open the bot's pages at this address
        server = raw.setdefault("server", {})
        server["port"], server["public_url"] = port, f"http://{_url_host(base.server.host)}:{port}"
    state.setdefault("secret_key", secrets.token_urlsafe(32))   # kept with the demo: its links stay valid
    replace_placeholders(raw, base, state["secret_key"])
    # The sample edition acts at its own dates and the demo's commands may take --now (docs/operator.md).
    raw.setdefault("server", {})["time_travel"] = True
    header = (f"# Written by `python -m bot demo` from {base_config} (calendar shifted {state['shift_days']} days).\n"
              "# Point any command at the demo: python -m bot --config " f"{config} COMMAND\n")
    config.write_text(header + tomli_w.dumps(raw), encoding="utf-8")
    state_file.write_text(json.dumps(state, ensure_ascii=False, indent=2), encoding="utf-8")
    return Prepared(config, state, reused, replaced)


def replace_placeholders(raw: dict, base, secret_key: str) -> None:  # noqa: ANN001
    """Put the demo's own key and contacts where the base configuration holds the example's."""
    from workflows.core import placeholders
    for f in placeholders.found(base, "server") + placeholders.found(base, "public"):
        value = secret_key if f.key == "server.secret_key" else DEMO_CONTACTS.get(re.sub(r"\[\d+\]", "[]", f.key))
        if value is None:
            continue                                 # the WeCom credentials: the stand-in accepts the example's
        node, *parts = re.findall(r"[^.\[\]]+|\[\d+\]", f.key)      # award.call.contacts[0].phone
        node = raw.setdefault(node, {})
        for part in parts[:-1]:
            node = node[int(part[1:-1])] if part.startswith("[") else node.setdefault(part, {})
        node[parts[-1]] = value


def members(session, settings) -> dict:  # noqa: ANN001
    """Whom to chat as: the roster by role, the sample's applicants and the new applicants (for the banner)."""
    from sqlalchemy import select

    from workflows.apply.models import Application
    from workflows.core import people
    roster = sorted(people.with_role(session, *ROLE_ORDER), key=lambda p: (ROLE_ORDER.index(p.role), p.userid))
    apps = session.execute(select(Application.applicant, Application.enterprise_name, Application.number,
                                  Application.status, Application.contact_name).where(Application.edition == settings.award.edition_key)
                           .order_by(Application.id)).all()
    return {"roster": [{"userid": p.userid, "name": p.name, "role": p.role, "unit": p.region or p.organization}
                       for p in roster],
            "applicants": [{"userid": a.applicant, "enterprise": a.enterprise_name or "", "number": a.number or "",
                            "status": str(a.status), "contact": a.contact_name or ""} for a in apps],
            "new_applicants": [{"userid": u, "name": n} for u, n in NEW_APPLICANTS.items()
                               if u not in {a.applicant for a in apps}],
            "linked_applicants": [{"userid": u, "name": n} for u, n in LINKED_APPLICANTS.items()]}


def directory_names(data: dict) -> dict[str, str]:
    """The names the WeCom stand-in's directory answers for the demo's members."""
    names = {m["userid"]: m["name"] for m in data["roster"]}
    names |= {a["userid"]: a["contact"] for a in data["applicants"] if a["contact"]}
    names |= {a["userid"]: a["name"] for a in data["new_applicants"]}
    names |= {a["userid"]: a["name"] for a in data.get("linked_applicants", [])}
    return names


def workbench_members(data: dict) -> list[tuple[str, str]]:
    """The roster members the stand-in's sign-in page offers: those with a workbench page to see."""
    from workflows.core import access
    return [(m["userid"], m["name"]) for m in data["roster"]
            if any(access.may_see(m["role"], view) for view in access.WORKBENCH_VIEWS)]


def directory(renderer, who: dict, until: str) -> dict:  # noqa: ANN001
    """The stand-in's directory for the simulator page (members by group), the app's menu and a first hint."""
    return json.loads(renderer.text("reports/demo_directory.json.j2", until=until, **who))


def stage_standin(fake, settings, renderer, who: dict, until: str) -> None:  # noqa: ANN001
    """Set the stand-in up as the corp's admin would: directory, app menu, who may sign in, the bot's callback URL."""
    page = directory(renderer, who, until)
    fake.set_names(directory_names(who))
    fake.signin.choices = workbench_members(who)
    phone = fake.phone
    phone.app_name, phone.menu, phone.note = settings.award.call.app_name, page["menu"], page["note"]
    public = settings.server.public_url.rstrip("/")
    phone.workbench_url = f"{public}/admin/login/start?via=oauth&next=/admin/"
    w = settings.wecom
    phone.connect(f"http://{_url_host(settings.server.host)}:{settings.server.port}", token=w.token,
                  encoding_aes_key=w.encoding_aes_key, path="/wecom/callback")
    fake.set_directory(page["members"])   # last: the open pages refresh when the directory arrives


def _url_host(host: str) -> str:
    """The host as a browser on this machine reaches it (a wildcard bind is reached on loopback)."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _stop(message: str) -> None:
    """One line on stderr and exit 2 (nothing was started or written)."""
    click.echo(message, err=True)
    sys.exit(2)


def claim_ports(base, port: int):  # noqa: ANN001, ANN201
    """Bind the webhook's port and start the WeCom stand-in on the next one, before anything else is done;
    a port that is not free stops the demo here (one line naming it, exit 2). Returns (listener, fake, server)."""
    from bot.simulator import FakeWeCom, serve_in_thread
    host = base.server.host
    try:
        listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                                        backlog=128)
    except OSError as exc:
        _stop(_busy(port, "webhook", port, exc))
    w = base.wecom
    fake = FakeWeCom(corp_id=w.corp_id, corp_secret=w.secret, agent_id=w.agent_id)
    try:
        server = serve_in_thread(fake, port=port + 1)
    except OSError as exc:
        listener.close()
        _stop(_busy(port + 1, "WeCom stand-in", port, exc))
    return listener, fake, server


def _busy(port: int, what: str, asked: int, exc: OSError) -> str:
    other = asked + 2 if asked + 3 <= 65535 else 8800
    return (f"port {port} ({what}) is not free: {exc.strerror or exc}. Is another demo running? Stop it, or start "
            f"this one on other ports: python -m bot demo --port {other} (webhook {other}, WeCom stand-in "
            f"{other + 1}). Nothing was started.")


def alive(api_url: str) -> bool:
    """Whether a demo's WeCom stand-in answers at this address."""
    import requests
    try:
        return requests.get(api_url.rstrip("/") + "/_sim/directory", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def running_demo() -> dict | None:
    """The state of the demo that is running now (its stand-in answers), else None."""
    try:
        state = json.loads(DEMO_STATE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or "api_url" not in state or "webhook_url" not in state:
        return None
    return state if alive(str(state["api_url"])) else None


def forget_servers(api_url: str) -> None:
    """On the way out: the state file no longer names servers that are gone (`chat` then says so)."""
    try:
        state = json.loads(DEMO_STATE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(state, dict) and state.get("api_url") == api_url:
        for key in ("webhook_url", "api_url", "simulator_url"):
            state.pop(key, None)
        DEMO_STATE.write_text(json.dumps(state, ensure_ascii=False, indent=2), encoding="utf-8")


def register(main: click.Group) -> None:
    """Add demo, chat and sample to the command line."""

    @main.command()
    @click.option("--until", default="apply", show_default=True, help="Sample stage to start the demo at.")
    @click.option("--days-left", default=20, show_default=True,
                  help="The demo calendar is shifted so that this stage's deadline is this many days away.")
    @click.option("--fresh", is_flag=True, help="Start clean: delete the previous demo's database and files.")
    @click.option("--port", type=click.IntRange(1, 65534), default=None,
                  help="The webhook's port (default: [server] port, 8800); the WeCom stand-in and its simulator "
                       "page take the next one.")
    @click.pass_obj
    def demo(obj, until: str, days_left: int, fresh: bool, port: int | None) -> None:  # noqa: ANN001
        """Run everything locally: webhook, sender, scheduler and the WeCom stand-in with its simulator page."""
        from workflows.core.settings import load_settings

        from .. import sample
        from ..serve import serve

        base = obj.settings
        if until not in sample.stage_names():
            raise click.BadParameter(f"choose one of: {', '.join(sample.stage_names())}", param_hint="--until")
        port = port or base.server.port
        listener, fake, api = claim_ports(base, port)
        other = running_demo()
        if other is not None:   # on other ports: it would share (or clear) the database under var/demo/
            api.stop()
            listener.close()
            _stop(f"a demo is already running (WeCom simulator {other['api_url']}/, webhook {other['webhook_url']}); "
                  "stop it (Ctrl+C in its terminal) before starting another. Nothing was started.")
        # `kill` (SIGTERM) ends the demo as Ctrl+C does: the stand-in stops and the state file forgets it.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            click.echo(f"\n  WeCom simulator  {api.url}/   <- open it in a browser (the demo is starting ...)")
            prepared = prepare(Path(obj.config_path), base, until=until, days_left=days_left, fresh=fresh,
                               api_url=api.url, today=dt.datetime.now(base.award.tz).date(), port=port)
            settings = load_settings(prepared.config)
            obj.config_path = str(prepared.config)
            obj.use(settings)
            rt = obj.runtime
            with rt.sessions.begin() as s:
                ran = sample.run(s, settings, until, rt.clock())
            with rt.sessions() as s:
                who = members(s, settings)
            stage_standin(fake, settings, rt.renderer, who, until)
            webhook = f"http://{_url_host(settings.server.host)}:{settings.server.port}/wecom/callback"
            state = prepared.state | {"webhook_url": webhook, "api_url": api.url}
            DEMO_STATE.write_text(json.dumps(state, ensure_ascii=False, indent=2), encoding="utf-8")
            click.echo(rt.renderer.text("reports/demo_banner.txt.j2", until=until, ran=ran, webhook=webhook,
                                        api_url=api.url, server=settings.server, config=str(prepared.config),
                                        reused=prepared.reused, replaced=prepared.replaced, created=state["created"],
                                        fresh=fresh, stage=settings.award.stage(until),
                                        workbench=[u for u, _ in workbench_members(who)], **who))
            serve(rt, sender=True, scheduler=True, production=True, listener=listener)
        finally:
            api.stop()
            listener.close()
            forget_servers(api.url)

    @main.command()
    @click.option("--as", "userid", required=True,
                  help="The WeCom userid to chat as (see `demo`'s list); a linked-corp member is CorpID/UserID.")
    @click.option("--linked-form", type=click.Choice(["id", "corp"]), default="id", show_default=True,
                  help="How callbacks name a linked-corp member: CorpID/UserID in FromUserName (id) or the "
                       "corp in ToUserName (corp, 上下游); see docs/reach.md.")
    @click.pass_obj
    def chat(obj, userid: str, linked_form: str) -> None:  # noqa: ANN001
        """Chat with the running demo as a member, through the real encrypted callback path."""
        from bot.simulator import CallbackClient, run_chat

        state = running_demo()
        if state is None:
            _stop("the demo is not running: start it with `make run` (python -m bot demo) in another terminal, "
                  "then chat again.")
        w = obj.settings.wecom
        callbacks = CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, state["webhook_url"], path="",
                                   linked_form=linked_form)
        run_chat(userid, webhook_url=state["webhook_url"], api_url=state["api_url"], token=w.token,
                 encoding_aes_key=w.encoding_aes_key, corp_id=w.corp_id, agent_id=w.agent_id, callbacks=callbacks)

    @main.command("sample")
    @click.option("--until", required=True, help="Stage to advance the sample edition to.")
    @click.pass_obj
    def sample_cmd(obj, until: str) -> None:  # noqa: ANN001
        """Fill the database with a realistic sample edition advanced to a stage (demos, training)."""
        from workflows.core.errors import DomainError

        from .. import sample
        if until not in sample.stage_names():
            raise click.BadParameter(f"choose one of: {', '.join(sample.stage_names())}", param_hint="--until")
        if not obj.settings.server.time_travel:
            commands.bad_argument("sample: refused — the sample edition acts at its own dates (its notice ends days "
                              "ahead), so it runs only where [server] time_travel = true (the demo, a training "
                              f"copy), not on {obj.config_path}; nothing was changed")
        rt = obj.runtime
        try:
            with rt.sessions.begin() as s:
                ran = sample.run(s, rt.settings, until, rt.clock())
        except sample.MissingRole as exc:
            click.echo(f"the roster cannot play the sample: {exc}; nothing was changed", err=True)
            raise SystemExit(1) from None
        except DomainError as exc:   # e.g. the notice refuses the example contacts: say so, nothing was changed
            click.echo(f"{exc.code}: {commands.error_text(rt, exc)}\nnothing was changed", err=True)
            raise SystemExit(1) from None
        click.echo(f"sample edition advanced through: {', '.join(ran) or '(already there)'}")
