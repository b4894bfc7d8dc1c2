"""A server process for the webhook benchmark: the full bot path, or a bare verify+decrypt app."""
from __future__ import annotations

import argparse
import logging

from flask import Flask, Response, request
from waitress import serve

from bot.app import create_app
from bot.migrate import upgrade
from bot.runtime import build_runtime
from bot.wecom import inbound
from workflows.core.settings import load_settings


def bare_app(settings) -> Flask:  # noqa: ANN001
    """Only what every webhook must do: verify the signature and decrypt."""
    from bot.wecom.crypto import CallbackRejected, Verifier
    import time
    w = settings.wecom
    verifier = Verifier(w.token, w.encoding_aes_key, w.corp_id, w.timestamp_tolerance_seconds)
    app = Flask(__name__)

    @app.post("/wecom/callback")
    def receive() -> Response:
        try:
            inbound.parse(verifier.decrypt(request.args.to_dict(), request.get_data(), time.time()))
        except CallbackRejected as exc:
            return Response("", status=exc.status)
        return Response("", status=200)
    return app


def main() -> None:
    """Serve one of the two apps until killed."""
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=("full", "bare"), required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--threads", type=int, default=int(__import__("os").environ.get("BENCH_THREADS", "8")))
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings("config.example.toml").with_overrides(
        database={"url": a.db}, wecom={"api_base_url": "http://127.0.0.1:9"},
        server={"secret_key": "bench-" + "k" * 40})   # the example key is refused (bot/app.py)
    if a.mode == "full":
        rt = build_runtime(settings)
        upgrade(rt.engine)
        app = create_app(rt)
    else:
        app = bare_app(settings)
    serve(app, host="127.0.0.1", port=a.port, threads=a.threads, _quiet=True)


if __name__ == "__main__":
    main()
