"""`demo --port`, a busy port, and `chat` without a running demo: what the newcomer who types `make run` sees."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from bot.cli import main
from bot.commands import demo
from workflows.core.settings import load_settings

from ..conftest import ROOT

CONFIG = ROOT / "config.example.toml"


def free_pair() -> int:
    """A port P with P and P+1 both free (for the webhook and the stand-in)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65534:
            continue
        try:
            with socket.create_server(("127.0.0.1", port)), socket.create_server(("127.0.0.1", port + 1)):
                return port
        except OSError:
            continue
    raise RuntimeError("no two free ports in a row")


def cli(*args: str):
    return CliRunner().invoke(main, ["--config", str(CONFIG), *args], catch_exceptions=False)


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """Run in an empty directory: the demo keeps its files in ./var/demo."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("which", [0, 1])
def test_a_busy_port_is_named_before_anything_is_started_or_written(here, which):
    port = free_pair()
    with socket.create_server(("127.0.0.1", port + which)):
        result = cli("demo", "--port", str(port))
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert f"port {port + which} " in line and ("webhook" if which == 0 else "WeCom stand-in") in line
    assert f"--port {port + 2}" in line and "Traceback" not in result.output
    assert result.stdout == "" and not (here / "var").exists()       # no banner, no state file, no database
    with socket.create_server(("127.0.0.1", port)), socket.create_server(("127.0.0.1", port + 1)):
        pass                                                        # both ports let go


def test_port_out_of_range_is_one_line(here):
    result = cli("demo", "--port", "70000")
    assert result.exit_code == 2 and "--port" in result.stderr and not (here / "var").exists()


def test_the_demo_config_follows_the_port(tmp_path):
    base = load_settings(CONFIG)
    p = demo.prepare(CONFIG, base, until="apply", days_left=20, fresh=False, api_url="http://127.0.0.1:9101",
                     today=load_settings(CONFIG).award.stage("apply").deadline.date(), root=tmp_path / "d", port=9100)
    raw = tomllib.loads(p.config.read_text(encoding="utf-8"))
    assert raw["server"]["port"] == 9100 and raw["server"]["public_url"] == "http://127.0.0.1:9100"
    assert {raw["wecom"][k] for k in ("api_base_url", "oauth_base_url", "login_base_url")} == {"http://127.0.0.1:9101"}


def test_chat_without_a_running_demo_says_so_in_one_line(here):
    result = cli("chat", "--as", "qiye1")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "the demo is not running" in result.stderr and "make run" in result.stderr
    state = here / "var" / "demo" / "state.json"
    state.parent.mkdir(parents=True)
    port = free_pair()        # a demo that was killed: its state file names servers that are gone
    state.write_text(json.dumps({"webhook_url": f"http://127.0.0.1:{port}/wecom/callback",
                                 "api_url": f"http://127.0.0.1:{port + 1}", "until": "apply"}), encoding="utf-8")
    again = cli("chat", "--as", "qiye1")
    assert again.exit_code == 2 and "the demo is not running" in again.stderr and again.stdout == ""


def _wait_for(predicate, seconds: float = 90.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)   # polling a separate process's output; no assertion depends on a duration
    raise AssertionError("the demo did not get there in time")


def test_make_run_on_other_ports_prints_the_simulator_first_and_cleans_up(tmp_path, monkeypatch):
    port = free_pair()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(CONFIG), "demo", "--port", str(port)],
                                cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)}, stdout=o, stderr=e)
        try:
            sim = f"http://127.0.0.1:{port + 1}"
            first = _wait_for(lambda: out.read_text(encoding="utf-8").strip().splitlines()[:1])
            assert first[0].split() == ["WeCom", "simulator", f"{sim}/", "<-", "open", "it", "in", "a", "browser",
                                        "(the", "demo", "is", "starting", "...)"]
            _wait_for(lambda: "Serving on" in err.read_text(encoding="utf-8"))
            page = requests.get(f"{sim}/_sim/directory", timeout=5).json()
            assert page["connected"] and page["members"][0]["userid"] == "qiye1" and page["menu"]
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            config = tomllib.loads((tmp_path / "var/demo/config.toml").read_text(encoding="utf-8"))
            assert config["server"]["public_url"] == f"http://127.0.0.1:{port}"
            assert config["wecom"]["oauth_base_url"] == sim
            state = json.loads((tmp_path / "var/demo/state.json").read_text(encoding="utf-8"))
            assert state["api_url"] == sim and state["webhook_url"] == f"http://127.0.0.1:{port}/wecom/callback"
            banner = out.read_text(encoding="utf-8")
            assert banner.rstrip().endswith(f"side by side): {sim}/")
            # a second demo on the same ports: the busy port, named before it touches the running demo's files
            monkeypatch.chdir(tmp_path)
            second = cli("demo", "--port", str(port), "--fresh")
            assert second.exit_code == 2 and f"port {port} (webhook)" in second.stderr
            assert json.loads((tmp_path / "var/demo/state.json").read_text(encoding="utf-8")) == state
            # on other ports while this one runs: it would clear the same var/demo, so it is refused too
            third = cli("demo", "--port", str(free_pair()), "--fresh")
            assert third.exit_code == 2 and "a demo is already running" in third.stderr
            assert (tmp_path / "var/demo/demo.sqlite3").exists()
        finally:
            proc.send_signal(signal.SIGTERM)   # `kill`: ends it as Ctrl+C does
            proc.wait(timeout=30)
    state = json.loads((tmp_path / "var/demo/state.json").read_text(encoding="utf-8"))
    assert "api_url" not in state and "webhook_url" not in state and state["until"] == "apply"
