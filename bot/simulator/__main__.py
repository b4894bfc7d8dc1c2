"""Command line: `python -m bot.simulator serve|chat` for demos (the fake API, or a terminal chat)."""

from __future__ import annotations

import argparse
import os
import threading

from bot.simulator.api import DEFAULT_AGENT_ID, DEFAULT_CORP_ID, DEFAULT_CORP_SECRET, FakeWeCom
from bot.simulator.chat import run_chat
from bot.simulator.server import serve_in_thread


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run `serve` (fake WeCom API) or `chat` (terminal chat as one user)."""
    parser = argparse.ArgumentParser(prog="python -m bot.simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the fake WeCom API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=int(_env("SIM_PORT", "8900")))
    serve.add_argument("--corp-id", default=_env("WECOM_CORP_ID", DEFAULT_CORP_ID))
    serve.add_argument("--secret", default=_env("WECOM_CORP_SECRET", DEFAULT_CORP_SECRET))
    serve.add_argument("--agent-id", type=int, default=int(_env("WECOM_AGENT_ID", str(DEFAULT_AGENT_ID))))
    serve.add_argument("--webhook-url", default=_env("WEBHOOK_URL"),
                       help="the bot's callback URL: members write to it from the simulator page")
    serve.add_argument("--token", default=_env("WECOM_TOKEN"))
    serve.add_argument("--aes-key", default=_env("WECOM_ENCODING_AES_KEY"))
    chat = sub.add_parser("chat", help="chat with the bot as one user")
    chat.add_argument("userid")
    chat.add_argument("--webhook-url", required=True, help="full callback URL of the bot")
    chat.add_argument("--api-url", default=_env("SIM_URL", "http://127.0.0.1:8900"))
    chat.add_argument("--token", default=_env("WECOM_TOKEN"))
    chat.add_argument("--aes-key", default=_env("WECOM_ENCODING_AES_KEY"))
    chat.add_argument("--corp-id", default=_env("WECOM_CORP_ID", DEFAULT_CORP_ID))
    chat.add_argument("--agent-id", default=_env("WECOM_AGENT_ID", str(DEFAULT_AGENT_ID)))
    args = parser.parse_args(argv)
    if args.command == "serve":
        fake = FakeWeCom(corp_id=args.corp_id, corp_secret=args.secret, agent_id=args.agent_id)
        if args.webhook_url:
            if not args.token or not args.aes_key:
                parser.error("--webhook-url needs --token and --aes-key (or WECOM_TOKEN / WECOM_ENCODING_AES_KEY)")
            fake.phone.connect(args.webhook_url, token=args.token, encoding_aes_key=args.aes_key)
        try:
            handle = serve_in_thread(fake, port=args.port)
        except OSError as exc:
            parser.exit(2, f"port {args.port} is not free: {exc.strerror or exc}\n")
        print(f"WeCom simulator at {handle.url}/ , fake WeCom API at {handle.url}/cgi-bin/ (Ctrl-C to stop)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            handle.stop()
        return
    if not args.token or not args.aes_key:
        parser.error("chat needs --token and --aes-key (or WECOM_TOKEN / WECOM_ENCODING_AES_KEY)")
    run_chat(args.userid, webhook_url=args.webhook_url, api_url=args.api_url, token=args.token,
             encoding_aes_key=args.aes_key, corp_id=args.corp_id, agent_id=args.agent_id)


if __name__ == "__main__":
    main()
