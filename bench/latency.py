"""Reply latency on an idle bot and a burst of 30 members, through the real `serve` (SQLite).

Latency is from posting the callback to the bot's `message/send` reaching the WeCom stand-in, so it
includes the webhook, the commit, waking the sender, its claim and the HTTP call.
Run: `python -m bench` (or `python -m bench.latency`).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from bench.live import Callbacks, Deployment, StandIn, burst, pct, reply_latency

IDLE = 30      # members, one after another
BURST = 30     # members at the same moment


def measure(url: str, standin: StandIn, cbs: Callbacks, label: str) -> None:
    """Print the idle latency and the burst for one running deployment."""
    reply_latency(url, standin, cbs, n=3, prefix=f"warm{label}")
    lat = reply_latency(url, standin, cbs, n=IDLE, prefix=f"idle{label}")
    print(f"{label:<34} idle, {IDLE} members one by one: p50 {pct(lat, .5):6.1f} ms  p90 {pct(lat, .9):6.1f} ms  "
          f"max {pct(lat, 1):6.1f} ms")
    acked, last, got = burst(url, standin, cbs, members=BURST, prefix=f"burst{label}")
    print(f"{label:<34} burst of {BURST} members at once: callbacks answered in {acked * 1000:.0f} ms, "
          f"{got}/{BURST} replies, the last after {last * 1000:.0f} ms")


def main() -> None:
    """Measure the real `serve` on SQLite."""
    standin, cbs = StandIn(), Callbacks()
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        dep = Deployment(Path(tmp), f"sqlite:///{tmp}/bot.sqlite3", standin.url)
        dep.prepare()
        try:
            url = dep.start("serve")
            print("reply latency: callback posted → message/send at the WeCom stand-in (SQLite, serve)")
            measure(url, standin, cbs, "serve (webhook+router+sender+scheduler)")
        finally:
            dep.stop()
            standin.close()


if __name__ == "__main__":
    main()
