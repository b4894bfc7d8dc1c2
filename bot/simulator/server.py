"""Run a WSGI app (e.g. FakeWeCom) on a loopback port in a background thread."""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request (keeps the terminal chat readable)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Skip the per-request access log line."""


@dataclass
class ServerHandle:
    """A running background server: `.url`, `.port`, `.stop()`; also a context manager."""

    server: BaseWSGIServer
    thread: threading.Thread
    url: str
    port: int

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_in_thread(app_or_fake: Any, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve a Flask app or an object with `.app` on loopback (port 0 = any free port); a port that is not
    free raises OSError (werkzeug alone would print and exit)."""
    if not _is_loopback(host):
        raise ValueError(f"the simulator binds loopback only, not {host!r}")
    app = getattr(app_or_fake, "app", app_or_fake)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family, backlog=128) as sock:
        port = sock.getsockname()[1]
        server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler, fd=sock.fileno())
    thread = threading.Thread(target=server.serve_forever, name=f"sim-server-{server.port}", daemon=True)
    thread.start()
    url_host = f"[{host}]" if ":" in host else host
    return ServerHandle(server, thread, f"http://{url_host}:{server.port}", server.port)
