"""Running the parts: the web server, the sender thread, the scheduler."""
from __future__ import annotations

import logging
import signal
import socket
import threading
from typing import Any

from workflows.core.settings import Settings

from .app import create_app
from .runtime import Runtime
from .web import limits

log = logging.getLogger(__name__)
# How long the routing worker waits for the webhook's requests in progress before each callback it routes.
YIELD_SECONDS = 0.02


def start_sender_thread(rt: Runtime, stop: threading.Event) -> threading.Thread:
    """Run the outbox sender in a daemon thread until `stop` is set."""
    t = threading.Thread(target=rt.sender.run_forever, args=(stop,), name="outbox-sender", daemon=True)
    t.start()
    rt.services["sender_thread"] = t  # /healthz says not ok if it dies
    return t


def start_router_thread(rt: Runtime, stop: threading.Event) -> threading.Thread:
    """Route recorded callbacks in a daemon thread until `stop` is set; the webhook then only records them."""
    from .routing import RoutingWorker
    worker = RoutingWorker(rt.sessions, rt.dispatcher, poll_seconds=rt.settings.sender.poll_seconds,
                           gather_seconds=rt.settings.sender.gather_seconds, yield_seconds=YIELD_SECONDS)
    rt.dispatcher.worker = worker
    t = threading.Thread(target=worker.run_forever, args=(stop,), name="callback-router", daemon=True)
    t.start()
    rt.services["router_thread"] = t  # /healthz says not ok if it dies
    return t


def start_scheduler(rt: Runtime) -> object | None:
    """Start the reminder scheduler if this process may (one per deployment, by lock)."""
    from .scheduler import start as start_sched
    return start_sched(rt)


# The forwarding headers waitress believes from the trusted proxy: the client's address and the scheme. The host
# is not taken from the proxy: every link the app makes comes from `[server] public_url`.
TRUSTED_PROXY_HEADERS = frozenset({"x-forwarded-for", "x-forwarded-proto"})


def waitress_options(settings: Settings) -> dict[str, Any]:
    """waitress's settings from ours: address, threads, the largest body any path takes, the trusted proxy.

    With `[server] trusted_proxy`, a request from that address gets its client address from the last
    X-Forwarded-For entry (the one the proxy added: one proxy is trusted, whatever the client wrote before it).
    Forwarding headers are never cleared, so the app still sees that a request came through a proxy (it is then
    never "local" for /healthz, bot/health.py); without a trusted proxy they are only never believed."""
    conf = settings.server
    options: dict[str, Any] = {"host": conf.host, "port": conf.port, "threads": conf.threads, "ident": "awardbot",
                               "max_request_body_size": limits.largest(settings),
                               "clear_untrusted_proxy_headers": False}
    if conf.trusted_proxy:
        options |= {"trusted_proxy": conf.trusted_proxy, "trusted_proxy_count": 1,
                    "trusted_proxy_headers": set(TRUSTED_PROXY_HEADERS)}
    return options


def serve(rt: Runtime, *, sender: bool = True, scheduler: bool = True, production: bool = True,
          listener: socket.socket | None = None) -> None:
    """Serve HTTP until interrupted, with the routing worker, the sender and the scheduler alongside;
    `listener`: a socket already bound to the port (the demo claims its ports before anything else)."""
    stop = threading.Event()
    start_router_thread(rt, stop)
    if sender:
        start_sender_thread(rt, stop)
    sched = start_scheduler(rt) if scheduler else None
    app = create_app(rt)
    host, port = rt.settings.server.host, rt.settings.server.port
    try:
        if production:
            from waitress import serve as waitress_serve
            options = waitress_options(rt.settings)
            if listener is not None:  # the demo's port, claimed already: serve on it instead of binding again
                options = {k: v for k, v in options.items() if k not in ("host", "port")} | {"sockets": [listener]}
            waitress_serve(app, **options)
        else:
            app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        stop.set()
        if sched is not None:
            sched.shutdown(wait=False)


def run_sender_forever(rt: Runtime) -> None:
    """Run only the sender in the foreground until SIGINT/SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        rt.sender.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()
