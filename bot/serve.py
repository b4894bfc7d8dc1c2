"""Running the parts: the web server, the sender thread, the scheduler."""
from __future__ import annotations

import logging
import signal
import socket
import threading

from .app import create_app
from .runtime import Runtime

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
            where = {"sockets": [listener]} if listener is not None else {"host": host, "port": port}
            waitress_serve(app, **where, threads=rt.settings.server.threads,
                           max_request_body_size=max(rt.settings.wecom.callback_max_bytes,
                                                     max(m.max_bytes for m in rt.settings.award.materials)) + 65536,
                           ident="awardbot")
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
