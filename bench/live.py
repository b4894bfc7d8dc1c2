"""The real processes, as deployed: `python -m bot serve` (webhook + sender + scheduler), a WeCom stand-in.

Shared by bench.latency, bench.webhook and bench.workers. A deployment here is a temporary directory
with its own configuration file (the example configuration, its calendar shifted so that the
application stage is open with 20 days left, the stand-in as WeCom), a migrated database and the
application stage opened, exactly as an operator would do it with the command line.

The stand-in answers every WeCom call at once and records when each `message/send` arrived, so reply
latency is measured from "the client posts the callback" to "the bot's message reaches WeCom".
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path

import requests
import tomli_w

from bot.simulator.callbacks import CallbackClient, envelope
from workflows.core.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
BASE_CONFIG = ROOT / "config.example.toml"
# The bench deployment's own values where config.example.toml has placeholders (`serve` refuses those).
DEPLOYED = {"server": {"secret_key": "bench-secret-key-0123456789abcdefghij"},
            "wecom": {"corp_id": "wwbenchcorp0000001", "secret": "bench-corp-secret", "token": "BenchToken2026",
                      "encoding_aes_key": "Bench0AesKeyabcdefghijklmnopqrstuvwxyz01234"}}


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    """The p-quantile of seconds, in milliseconds."""
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve_standin(conn: Connection) -> None:
    """The stand-in's own process: answer WeCom calls, report each `message/send` arrival through `conn`."""
    report = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()  # headers and body are two writes: without NODELAY, Nagle adds 40 ms
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *_args: object) -> None:
            pass

        def _answer(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            if "gettoken" in self.path:
                self._answer({"errcode": 0, "access_token": "bench-token", "expires_in": 7200})
            else:
                self._answer({"errcode": 0, "name": "测试成员", "userid": "x"})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if "message/send" in self.path:
                now = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process of the machine
                with report:
                    conn.send((str(body.get("touser", "")), now))
            self._answer({"errcode": 0, "msgid": "m", "response_code": "rc"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda *_a: None  # the bot's kept-alive connections reset at shutdown
    conn.send(f"http://127.0.0.1:{server.server_address[1]}")
    server.serve_forever()


class StandIn:
    """A minimal WeCom API: a token, names, and `message/send` arrivals recorded per member.

    It runs in a process of its own, like the real WeCom, so that answering the bot's calls does not take
    the load generator's interpreter lock from the clients (which would slow the clients, not the bot)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.cond = threading.Condition()
        mine, theirs = multiprocessing.get_context("spawn").Pipe()
        self.proc = multiprocessing.get_context("spawn").Process(target=_serve_standin, args=(theirs,), daemon=True)
        self.proc.start()
        self.url = mine.recv()
        self._conn = mine
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        while True:
            try:
                user, at = self._conn.recv()
            except (EOFError, OSError):
                return
            with self.cond:
                self.arrivals[user].append(at)
                self.cond.notify_all()

    def first_after(self, user: str, since: float, timeout: float) -> float | None:
        """When the first message to `user` after `since` arrived (monotonic), or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                hit = next((t for t in self.arrivals.get(user, []) if t >= since), None)
                if hit is not None or time.monotonic() >= deadline:
                    return hit
                self.cond.wait(deadline - time.monotonic())

    def delivered(self) -> int:
        """How many `message/send` calls arrived so far."""
        with self.cond:
            return sum(len(v) for v in self.arrivals.values())

    def wait_delivered(self, n: int, timeout: float) -> bool:
        """Wait until at least `n` `message/send` calls have arrived in all; False on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while sum(len(v) for v in self.arrivals.values()) < n:
                if time.monotonic() >= deadline:
                    return False
                self.cond.wait(deadline - time.monotonic())
            return True

    def close(self) -> None:
        """Stop serving."""
        self.proc.terminate()
        self.proc.join(timeout=5)


@dataclass
class Deployment:
    """A configuration file, its database prepared, and the processes started from it."""

    workdir: Path
    db_url: str
    api_url: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.workdir / "config.toml"

    def prepare(self) -> None:
        """Write the configuration (calendar shifted: the application stage open, 20 days left), migrate, open."""
        base = load_settings(BASE_CONFIG)
        deadline = base.award.stage("apply").deadline.astimezone(base.award.tz).date()
        shift = (dt.date.today() + dt.timedelta(days=20) - deadline).days
        raw = tomllib.loads(BASE_CONFIG.read_text(encoding="utf-8"))
        raw["award"]["calendar_shift_days"] = int(raw["award"].get("calendar_shift_days", 0)) + shift
        raw["database"]["url"] = self.db_url
        raw["wecom"]["api_base_url"] = self.api_url
        for section, values in DEPLOYED.items():
            raw[section].update(values)
        raw.setdefault("storage", {}).update(dir=str(self.workdir / "uploads"),
                                             publications_dir=str(self.workdir / "notices"))
        raw.setdefault("scheduler", {})["lock_file"] = str(self.workdir / "scheduler.lock")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config.write_text(tomli_w.dumps(raw), encoding="utf-8")
        self.cli("db", "upgrade")
        self.cli("stage", "open", "apply", "--yes")

    def cli(self, *args: str) -> None:
        """Run one operator command against this deployment."""
        done = subprocess.run([sys.executable, "-m", "bot", "--config", str(self.config), *args], cwd=ROOT,
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")

    def start(self, *args: str, port: int | None = None) -> str | None:
        """Start `python -m bot serve …` (returns its callback URL) or `sender` (returns None)."""
        env = dict(os.environ)
        cmd = [sys.executable, "-m", "bot", "--config", str(self.config), *args]
        if args[0] == "serve":
            port = port or free_port()
            # The port is the only per-process setting: pass it through a copy of the configuration.
            raw = tomllib.loads(self.config.read_text(encoding="utf-8"))
            raw["server"]["port"] = port
            cfg = self.workdir / f"config-{port}.toml"
            cfg.write_text(tomli_w.dumps(raw), encoding="utf-8")
            cmd[4] = str(cfg)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        if args[0] != "serve":
            return None
        url = f"http://127.0.0.1:{port}/wecom/callback"
        for _ in range(200):
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
                return url
            except requests.RequestException:
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd} exited with {proc.returncode}")
                time.sleep(0.1)
        raise RuntimeError(f"{cmd} did not start")

    def stop(self) -> None:
        """Stop every process this deployment started."""
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


class Callbacks:
    """Pre-encrypted text callbacks from members not on the roster (encryption is the client's cost)."""

    def __init__(self) -> None:
        w = load_settings(BASE_CONFIG).with_overrides(**DEPLOYED).wecom
        self.w = w
        self.client = CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, lambda *a: None)
        self.seq = itertools.count(int(time.time() * 1000) % 10**9 * 1000)

    def one(self, user: str, content: str = "帮助") -> tuple[bytes, dict[str, str]]:
        """One signed, encrypted text callback."""
        enc = self.client.encrypt(self.client.text(user, content, msg_id=10**12 + next(self.seq)))
        return envelope(self.w.corp_id, enc, self.w.agent_id).encode(), self.client.signed_query(enc)

    def many(self, n: int, members: int, prefix: str) -> list[tuple[bytes, dict[str, str]]]:
        """n callbacks spread over `members` distinct members."""
        return [self.one(f"{prefix}{i % members}") for i in range(n)]


def run_clients(urls: list[str], clients: int, work: list[tuple[bytes, dict[str, str]]]) -> tuple[float, list[float], int]:
    """Post `work` from `clients` threads (client i uses urls[i % len(urls)]: round robin); elapsed, latencies, errors."""
    chunks = [work[i::clients] for i in range(clients)]
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(i: int, items: list[tuple[bytes, dict[str, str]]]) -> None:
        nonlocal errors
        s = requests.Session()
        mine, bad = [], 0
        for k, (body, query) in enumerate(items):
            url = urls[(i + k) % len(urls)]
            t = time.perf_counter()
            r = s.post(url, params=query, data=body, timeout=10)
            mine.append(time.perf_counter() - t)
            bad += r.status_code != 200
        with lock:
            latencies.extend(mine)
            errors += bad
    threads = [threading.Thread(target=client, args=(i, c)) for i, c in enumerate(chunks)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, errors


def reply_latency(url: str, standin: StandIn, cbs: Callbacks, *, n: int, prefix: str,
                  gap: float = 0.15) -> list[float]:
    """An idle bot: one member at a time sends 帮助; seconds from posting to the reply reaching WeCom."""
    out = []
    for i in range(n):
        body, query = cbs.one(f"{prefix}{i}")
        t0 = time.monotonic()
        requests.post(url, params=query, data=body, timeout=10)
        hit = standin.first_after(f"{prefix}{i}", t0, 10)
        out.append((hit - t0) if hit is not None else float("inf"))
        time.sleep(gap)
    return out


def burst(url: str, standin: StandIn, cbs: Callbacks, *, members: int, prefix: str) -> tuple[float, float, int]:
    """`members` members send 帮助 at the same moment: seconds until every callback was answered and until the
    last reply arrived, and how many replies arrived."""
    work = [(f"{prefix}{i}", *cbs.one(f"{prefix}{i}")) for i in range(members)]
    gate = threading.Barrier(members)
    t0 = time.monotonic()

    def post(body: bytes, query: dict[str, str]) -> None:
        gate.wait()
        requests.post(url, params=query, data=body, timeout=10)
    threads = [threading.Thread(target=post, args=(b, q)) for _, b, q in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acked = time.monotonic() - t0
    hits = [standin.first_after(user, t0, 10) for user, _, _ in work]
    got = [h for h in hits if h is not None]
    return acked, (max(got) - t0 if got else float("inf")), len(got)
