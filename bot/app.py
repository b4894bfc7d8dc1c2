"""The Flask application factory (nothing connects at import time)."""
from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text

from . import outbox
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
        """200 with JSON: database reachable, outbox backlog, scheduler state."""
        now = runtime.clock()
        try:
            with runtime.sessions() as s:
                s.execute(text("SELECT 1"))
                st = outbox.status(s, now)
        except Exception as exc:  # report, don't crash
            return jsonify(ok=False, database=f"error: {type(exc).__name__}"), 503
        return jsonify(ok=True, database="ok", scheduler=runtime.scheduler_state,
                       outbox={"pending": st.pending, "sending": st.sending, "sent": st.sent, "dead": st.dead,
                               "oldest_pending_seconds": st.oldest_pending_seconds})

    return app
