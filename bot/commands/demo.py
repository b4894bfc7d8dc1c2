"""`demo`, `chat --as` and `sample --until`: the embedded default, a terminal chat, a sample edition."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

DEMO_STATE = Path("var/demo.json")
DEMO_DB = "sqlite:///var/demo.sqlite3"
DEMO_USERS = [
    ("qiye1", "申报企业联系人（韶关市丹霞机械有限公司）"),
    ("qiye2", "申报企业联系人（韶关市南岭食品有限公司）"),
    ("qiye3", "申报企业联系人（乐昌市北江新材料有限公司）"),
    ("mishu", "秘书处"),
    ("tuijian-wj", "推荐单位（武江区）"),
    ("zhuanjia1", "评审专家"),
    ("zuzhang", "专家组组长"),
    ("weiyuan1", "评审委员会主任"),
    ("weiyuan2", "评审委员会委员"),
]


def register(main: click.Group) -> None:
    """Add demo, chat and sample to the command line."""

    @main.command()
    @click.option("--until", default="apply", show_default=True, help="Sample stage to start the demo at.")
    @click.option("--days-left", default=20, show_default=True,
                  help="The demo calendar is shifted so that this stage's deadline is this many days away.")
    @click.pass_obj
    def demo(obj, until: str, days_left: int) -> None:  # noqa: ANN001
        """Run everything locally: webhook, sender, scheduler and the WeCom stand-in, with demo users."""
        from bot.simulator import FakeWeCom, serve_in_thread

        from .. import sample
        from ..serve import serve

        base = obj.settings
        DEMO_STATE.parent.mkdir(parents=True, exist_ok=True)
        state = json.loads(DEMO_STATE.read_text()) if DEMO_STATE.exists() else {}
        if "shift_days" not in state or state.get("until") != until:
            deadline = base.award.stage(until).deadline.astimezone(base.award.tz).date()
            target = dt.datetime.now(base.award.tz).date() + dt.timedelta(days=days_left)
            state = {"shift_days": (target - deadline).days, "until": until}
            Path(DEMO_DB.removeprefix("sqlite:///")).unlink(missing_ok=True)
        w = base.wecom
        fake = FakeWeCom(corp_id=w.corp_id, corp_secret=w.secret, agent_id=w.agent_id)
        api = serve_in_thread(fake, port=base.server.port + 1)
        settings = base.with_calendar_shift(state["shift_days"]).with_overrides(
            wecom={"api_base_url": api.url}, database={"url": DEMO_DB})
        obj.use(settings)
        rt = obj.runtime
        with rt.sessions.begin() as s:
            ran = sample.run(s, settings, until, rt.clock())
        webhook = f"http://{settings.server.host}:{settings.server.port}/wecom/callback"
        state |= {"webhook_url": webhook, "api_url": api.url}
        DEMO_STATE.write_text(json.dumps(state, ensure_ascii=False, indent=2))
        click.echo(_banner(settings, until, ran, webhook, api.url))
        try:
            serve(rt, sender=True, scheduler=True, production=True)
        finally:
            api.stop()

    @main.command()
    @click.option("--as", "userid", required=True, help="The WeCom userid to chat as (see `demo`'s list).")
    @click.pass_obj
    def chat(obj, userid: str) -> None:  # noqa: ANN001
        """Chat with the running demo as a member, through the real encrypted callback path."""
        from bot.simulator import run_chat

        if not DEMO_STATE.exists():
            raise click.ClickException("没有正在运行的演示。请先在另一个终端运行 `make run`（python -m bot demo）。")
        state = json.loads(DEMO_STATE.read_text())
        w = obj.settings.wecom
        run_chat(userid, webhook_url=state["webhook_url"], api_url=state["api_url"], token=w.token,
                 encoding_aes_key=w.encoding_aes_key, corp_id=w.corp_id, agent_id=w.agent_id)

    @main.command("sample")
    @click.option("--until", required=True, help="Stage to advance the sample edition to.")
    @click.pass_obj
    def sample_cmd(obj, until: str) -> None:  # noqa: ANN001
        """Fill the database with a realistic sample edition advanced to a stage (demos, training)."""
        from .. import sample
        rt = obj.runtime
        if until not in sample.stage_names():
            raise click.BadParameter(f"choose one of: {', '.join(sample.stage_names())}", param_hint="--until")
        with rt.sessions.begin() as s:
            ran = sample.run(s, rt.settings, until, rt.clock())
        click.echo(f"sample edition advanced through: {', '.join(ran) or '(already there)'}")


def _banner(settings, until: str, ran: list[str], webhook: str, api_url: str) -> str:  # noqa: ANN001
    tz = settings.award.tz
    stage = settings.award.stage(until)
    lines = [
        "",
        f"  {settings.award.edition_name} · 评审助手演示",
        f"  webhook   {webhook}",
        f"  WeCom stand-in  {api_url}   health  http://{settings.server.host}:{settings.server.port}/healthz",
        f"  stage “{stage.name}” open until {stage.deadline.astimezone(tz):%Y-%m-%d %H:%M} (calendar shifted for the demo)",
        f"  sample prepared: {', '.join(ran) or 'already there'}",
        "",
        "  Chat as a demo member in another terminal (type 帮助 for help, /help for chat commands):",
    ]
    lines += [f"    .venv/bin/python -m bot chat --as {uid:12}  # {label}" for uid, label in DEMO_USERS]
    lines += ["", "  Ctrl+C stops the demo.", ""]
    return "\n".join(lines)
