"""Webhook benchmark: the full path vs a bare verify+decrypt app, side by side, at 1, 8 and 32 clients."""
from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bot.simulator.callbacks import CallbackClient, envelope
from workflows.core.settings import load_settings

LEVELS = ((1, 300), (8, 1200), (32, 2400))   # (concurrent clients, requests)
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(mode: str, db: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.server", "--mode", mode, "--port", str(port), "--db", db],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/wecom/callback"
    for _ in range(100):
        try:
            requests.post(url, timeout=0.5)
            return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{mode} server did not start")


def _requests(n: int, seq: itertools.count) -> list[tuple[bytes, dict[str, str]]]:
    """Pre-encrypted, distinct text callbacks (encryption is the client's cost, not measured)."""
    w = load_settings(ROOT / "config.example.toml").wecom
    c = CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, lambda *a: None)
    out = []
    for _ in range(n):
        i = next(seq)
        enc = c.encrypt(c.text(f"bench{i % 500}", "帮助", msg_id=10**12 + i))
        out.append((envelope(w.corp_id, enc, w.agent_id).encode(), c.signed_query(enc)))
    return out


def _run(url: str, clients: int, work: list[tuple[bytes, dict[str, str]]]) -> tuple[float, list[float], int]:
    chunks = [work[i::clients] for i in range(clients)]
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(items: list[tuple[bytes, dict[str, str]]]) -> None:
        nonlocal errors
        s = requests.Session()
        mine, bad = [], 0
        for body, query in items:
            t = time.perf_counter()
            r = s.post(url, params=query, data=body, timeout=10)
            mine.append(time.perf_counter() - t)
            bad += r.status_code != 200
        with lock:
            latencies.extend(mine)
            errors += bad
    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, errors


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def main() -> None:
    """Print callbacks/s and p50/p99 for both apps at each concurrency level, and the ratio."""
    seq = itertools.count()
    with tempfile.TemporaryDirectory() as tmp:
        servers = {mode: _start(mode, f"sqlite:///{tmp}/{mode}.sqlite3") for mode in ("bare", "full")}
        try:
            print("webhook benchmark (SQLite, waitress 8 threads, loopback; 2-core machine)")
            print(f"{'clients':>7} {'app':>5} {'req':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
            for clients, n in LEVELS:
                rates = {}
                for mode in ("bare", "full"):
                    _run(servers[mode][1], clients, _requests(min(50, n), seq))  # warm-up
                    elapsed, lat, errors = _run(servers[mode][1], clients, _requests(n, seq))
                    rates[mode] = n / elapsed
                    print(f"{clients:>7} {mode:>5} {n:>5} {rates[mode]:>8.0f} {_pct(lat, .5):>8.1f} "
                          f"{_pct(lat, .99):>8.1f} {errors:>6}")
                print(f"{clients:>7} ratio full/bare throughput = {rates['full'] / rates['bare']:.0%}")
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
