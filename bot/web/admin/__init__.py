"""The secretariat's workbench under /admin: server-rendered pages over the same services and the same gate as chat.

Who sees which page is `workflows.core.access.VIEWS` (read on every request); every action calls a guarded
verb.  Modules: `auth` (WeCom sign-in, session, CSRF), `gate` (the page decorator), `pages` (read views),
`application` (one application, its documents and the formal-review actions), `publicity` (the notice,
complaints and their evidence), `exports` (XLSX, reports).
"""
from __future__ import annotations

from flask import Flask


def register(app: Flask, runtime) -> None:  # noqa: ANN001
    """Register the workbench's blueprint on the Flask app."""
    from .gate import bp
    from . import application, broadcasts, certificates, exports, pages, publicity, stages  # noqa: F401  (their routes register on bp)
    app.register_blueprint(bp)
