"""The Flask application factory (nothing connects at import time)."""
from __future__ import annotations

from flask import Flask, jsonify, request

from . import health
from .runtime import Runtime
from .webhook import bp as webhook_bp


def create_app(runtime: Runtime) -> Flask:
    """A Flask app serving the WeCom callback, health and upload pages for this runtime."""
    app = Flask(__name__, static_folder=None)
    app.extensions["awardbot"] = runtime
    app.register_blueprint(webhook_bp)
    for register in runtime.services.get("web_blueprints", []):
        register(app, runtime)

    @app.get("/healthz")
    def healthz():  # noqa: ANN202
        """{"ok": true} 200 or {"ok": false} 503 for everyone; database, scheduler, sender and outbox
        backlog only for a direct loopback request or the health token (bot/health.py)."""
        h = health.check(runtime)
        body = {"ok": h.ok, **h.details} if health.may_see_details(request, runtime) else {"ok": h.ok}
        resp = jsonify(body)
        resp.status_code = 200 if h.ok else 503
        resp.headers["Cache-Control"] = "no-store"
        return resp

    return app
