"""The Flask application factory (nothing connects at import time)."""
from __future__ import annotations

from flask import Flask, jsonify, request

from workflows.core import placeholders
from workflows.core.settings import ConfigError

from . import health
from .runtime import Runtime
from .webhook import bp as webhook_bp


def create_app(runtime: Runtime) -> Flask:
    """A Flask app serving the WeCom callback, health and upload pages for this runtime.

    Refuses (ConfigError) a `secret_key` that is the example's or too short: it signs the workbench's session
    cookie and every member's link, so with a known key anyone could sign in as the secretariat."""
    weak = [f for f in placeholders.found(runtime.settings, "server") if f.key == "server.secret_key"]
    if weak:
        raise ConfigError(f"server.secret_key: {'the example value' if weak[0].reason != 'short' else 'too short'}; "
                          f"set a random string of at least {placeholders.SECRET_KEY_MIN} characters")
    app = Flask(__name__, static_folder=None)
    app.extensions["awardbot"] = runtime
    app.register_blueprint(webhook_bp)
    for register in runtime.services.get("web_blueprints", []):
        register(app, runtime)

    def answer(path: str):  # noqa: ANN202
        """{"ok": true} 200 or {"ok": false} 503 for everyone; the details only for a direct loopback request or
        the health token (bot/health.py)."""
        shown = health.may_see_details(request, runtime)
        h = health.VIEWS[path](runtime, shown)
        resp = jsonify({"ok": h.ok, **h.details} if shown else {"ok": h.ok})
        resp.status_code = 200 if h.ok else 503
        resp.headers["Cache-Control"] = "no-store"
        return resp

    for path in health.VIEWS:   # /livez (the process), /readyz (the load balancer's), /healthz (the deployment)
        app.add_url_rule(path, f"health{path.replace('/', '_')}", lambda path=path: answer(path), methods=["GET"])
    return app
