"""Issue 21 item 7 (RELIABILITY 19): behind a proxy, through a real nginx in front of the real `serve`.

The nginx configuration is the shipped one (deploy/nginx/awardbot.conf) with only its machine-specific parts
swapped: a free loopback port, a self-signed certificate made here, the bot's port, logs in a temp dir. Visitors
connect from distinct loopback addresses (127.0.0.2, 127.0.0.3, …), so nginx sees them as different clients.
Without nginx (Debian's package) the proxy tests skip, saying so; `.ci/run` installs it."""
from __future__ import annotations

import datetime as dt
import http.client
import re
import secrets
import shutil
import socket
import ssl
import string
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import tomli_w

from bot.app import create_app
from bot.cli import main
from bot.web import limits
from tests.bot.complaint_helpers import form_fields
from tests.conftest import ROOT, example_config_text, example_settings
from tests.workflows.publicity_fixtures import START, committee_result, make_apps, make_roster

SHIPPED = ROOT / "deploy" / "nginx" / "awardbot.conf"
UNITS = sorted((ROOT / "deploy" / "systemd").glob("awardbot-*.service"))
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
OPENSSL = shutil.which("openssl")
needs_nginx = pytest.mark.skipif(
    NGINX is None or OPENSSL is None,
    reason="nginx (Debian's package, /usr/sbin/nginx) or openssl not installed: the proxy is tested through a real "
           "nginx only; .ci/run installs it (apt-get install nginx)")
TOKEN = "proxy-health-token-0123456789abcdef"
PER_IP = 2


# --- the shipped configuration, read as nginx reads it ---------------------------------------------------------

def locations(conf: str) -> dict[str, dict[str, str]]:
    """Each `location [=] PATH { … }` of the HTTPS server with its directives (one level deep, as shipped)."""
    https = conf[conf.index("listen 443"):]
    out = {}
    for m in re.finditer(r"location\s+(=\s*)?(\S+)\s*\{([^{}]*)\}", https):
        key = ("= " if m.group(1) else "") + m.group(2)
        out[key] = dict(re.findall(r"^\s*(\S+)\s+([^;]*);", m.group(3), re.M))
    return out


def size(text: str) -> int:
    """An nginx size: 64k, 21m, 1048576."""
    unit = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1].lower(), 1)
    return int(text[:-1] if unit > 1 else text) * unit


def location_for(path: str, locs: dict[str, dict[str, str]]) -> str:
    """The location nginx picks for a request path: an exact match, else the longest prefix."""
    if f"= {path}" in locs:
        return f"= {path}"
    return max((loc for loc in locs if not loc.startswith("= ") and path.startswith(loc)), key=len)


def test_the_shipped_body_limits_are_the_apps_and_every_route_is_proxied(rt):
    conf = SHIPPED.read_text(encoding="utf-8")
    locs = locations(conf)
    server_default = size(re.search(r"^    client_max_body_size\s+(\S+);", conf, re.M).group(1))
    for path, app_limit in limits.body_limits(example_settings()).items():
        loc = location_for(path, locs)
        nginx_limit = size(locs[loc].get("client_max_body_size", str(server_default)))
        assert app_limit <= nginx_limit < app_limit + (1 << 20), (path, loc, app_limit, nginx_limit)
    for rule in create_app(rt).url_map.iter_rules():       # a new page needs its location (else nginx says 404)
        static = rule.rule.split("<")[0]
        loc = location_for(static, locs)
        assert loc != "/" and locs[loc].get("proxy_pass") == "http://awardbot", rule.rule
    assert "return" in locs["/"] and locs["/"]["return"] == "404"
    assert "proxy_set_header X-Forwarded-For   $remote_addr;" in conf      # nginx is the edge: a client's own dropped


def test_the_service_units_run_real_commands():
    assert [u.name for u in UNITS] == ["awardbot-scheduler.service", "awardbot-sender.service",
                                       "awardbot-serve.service"]
    from click.testing import CliRunner
    for unit in UNITS:
        lines = dict(line.split("=", 1) for line in unit.read_text(encoding="utf-8").splitlines()
                     if "=" in line and not line.startswith("#") and not line.startswith("Environment="))
        assert "Environment=AWARDBOT_CONFIG=/etc/awardbot/config.toml" in unit.read_text(encoding="utf-8")
        assert lines["User"] == "awardbot" and lines["RestartPreventExitStatus"] == "2"   # a refused config: no loop
        for key in ("ExecStartPre", "ExecStart"):
            if key in lines:
                argv = lines[key].split()
                assert argv[:3] == ["/opt/awardbot/.venv/bin/python", "-m", "bot"], unit.name
                result = CliRunner().invoke(main, [*argv[3:], "--help"])
                assert result.exit_code == 0, (unit.name, result.output)
    assert "awardbot-serve.service" in dict(line.split("=", 1) for line in UNITS[0].read_text().splitlines()
                                            if line.startswith("After="))["After"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_service_units_pass_systemd_analyze(tmp_path):
    for unit in UNITS:   # this checkout and its virtualenv stand in for /opt/awardbot
        text = unit.read_text(encoding="utf-8").replace("/opt/awardbot/.venv/bin/python", sys.executable)
        (tmp_path / unit.name).write_text(text.replace("/opt/awardbot", str(ROOT)), encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


# --- a real nginx in front of the real `serve` -----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def swap(text: str, old: str, new: str) -> str:
    assert old in text, f"the shipped nginx configuration no longer has {old!r}: update this test's derivation"
    return text.replace(old, new)


def derived_site(tmp: Path, *, port: int, redirect_port: int, app_port: int) -> str:
    """The shipped site with its machine-specific parts swapped (nothing else is touched)."""
    text = SHIPPED.read_text(encoding="utf-8")
    text = swap(text, "server 127.0.0.1:8800;", f"server 127.0.0.1:{app_port};")
    text = swap(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;")
    text = swap(text, "listen 80;", f"listen 127.0.0.1:{redirect_port};")
    text = "\n".join(line for line in text.splitlines() if "listen [::]" not in line)   # no IPv6 needed here
    text = swap(text, "/etc/ssl/awardbot/fullchain.pem", str(tmp / "cert.pem"))
    text = swap(text, "/etc/ssl/awardbot/privkey.pem", str(tmp / "key.pem"))
    return swap(text, "/var/log/nginx/", f"{tmp}/")


def wait_for(port: int, proc: subprocess.Popen, what: Path) -> None:
    """Until something listens on the port (start-up), or the process died (its log says why)."""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"{what.name} exited {proc.returncode}:\n{what.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listens on {port}:\n{what.read_text(errors='replace')}")


@dataclass
class Stack:
    """nginx on `port` (HTTPS, the shipped site) in front of `python -m bot serve` on `app_port`."""

    tmp: Path
    port: int
    app_port: int
    context: ssl.SSLContext = field(repr=False)

    def request(self, method: str, path: str, *, via_nginx: bool = True, source: str = "127.0.0.1",
                headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, dict, bytes]:
        """One request from a visitor at loopback address `source` (straight to the bot with via_nginx=False)."""
        if via_nginx:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=30,
                                               source_address=(source, 0))
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.app_port, timeout=30, source_address=(source, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def json(self, path: str, **kw) -> tuple[int, dict]:
        """A health answer: status and JSON body."""
        import json
        status, _, body = self.request("GET", path, **kw)
        return status, json.loads(body)

    def complaint_attempt(self, source: str, headers: dict[str, str] | None = None) -> int:
        """Open the complaint page and send its form with a wrong answer: the status (429 once limited)."""
        status, head, page = self.request("GET", "/complaints", source=source, headers=headers)
        assert status == 200, page[:500]
        cookie = SimpleCookie(head["Set-Cookie"])
        fields = form_fields(page.decode()) | {"enterprise": "SG2018-001", "content": "反映的问题" * 5,
                                               "name": "王小明", "phone": "13912345678", "website": ""}
        fields["answer"] = str(int(fields["answer"]) + 1)           # wrong: refused, but it counts as a submission
        status, _, _ = self.request(
            "POST", "/complaints", source=source, body=urlencode(fields).encode(),
            headers={**(headers or {}), "Content-Type": "application/x-www-form-urlencoded",
                     "Cookie": "; ".join(f"{k}={m.value}" for k, m in cookie.items())})
        return status


def app_config(tmp: Path, *, app_port: int, public_port: int, trusted_proxy: str) -> Path:
    """A deployment's configuration: no placeholder (serve refuses those), the notice open today."""
    raw = tomllib.loads(example_config_text())
    alnum = string.ascii_letters + string.digits
    raw["wecom"] |= {"corp_id": "wwproxytest" + secrets.token_hex(4), "secret": secrets.token_urlsafe(24),
                     "token": secrets.token_hex(8), "encoding_aes_key": "".join(secrets.choice(alnum) for _ in range(43)),
                     "api_base_url": "http://127.0.0.1:9"}
    raw["database"]["url"] = f"sqlite:///{tmp / 'award.sqlite3'}"
    raw["server"] |= {"port": app_port, "public_url": f"https://127.0.0.1:{public_port}", "health_token": TOKEN}
    if trusted_proxy:                                    # without it: an older deployment's configuration
        raw["server"]["trusted_proxy"] = trusted_proxy
    raw["storage"]["dir"] = str(tmp / "uploads")
    raw["scheduler"]["lock_file"] = str(tmp / "scheduler.lock")
    raw["complaint_page"]["per_ip_per_hour"] = PER_IP
    today = dt.datetime.now(START.tzinfo).date()
    raw["award"]["calendar_shift_days"] = (today - START.date()).days   # the publicity stage runs today
    path = tmp / "config.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return path


def start_notice(config: Path) -> None:
    """The committee's result and the notice started a minute ago (the complaint page is open)."""
    from bot.handlers import publicity as ph
    from bot.migrate import upgrade
    from bot.runtime import build_runtime
    from workflows.core.settings import load_settings
    rt = build_runtime(load_settings(config))
    upgrade(rt.engine)
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    with rt.sessions.begin() as s:
        ids = make_apps(s, rt.settings, 5, now=now)
        make_roster(s, now=now)
        committee_result(s, rt.settings, ids[:3], ids[3:], now=now)
        ph.start(s, rt.settings, rt.renderer, actor="cli", now=now)
    rt.engine.dispose()


def stack(tmp: Path, trusted_proxy: str):
    """Start the bot and nginx; yield the Stack; stop both."""
    port, redirect_port, app_port = free_port(), free_port(), free_port()
    config = app_config(tmp, app_port=app_port, public_port=port, trusted_proxy=trusted_proxy)
    start_notice(config)
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(tmp / "key.pem"),
                    "-out", str(tmp / "cert.pem")], check=True, capture_output=True, timeout=60)
    (tmp / "site.conf").write_text(derived_site(tmp, port=port, redirect_port=redirect_port, app_port=app_port),
                                   encoding="utf-8")
    temp_paths = " ".join(f"{kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                          "scgi"))
    (tmp / "nginx.conf").write_text(
        f"daemon off;\nmaster_process off;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'} info;\n"
        f"events {{ worker_connections 64; }}\nhttp {{\n  {temp_paths}\n  include {tmp / 'site.conf'};\n}}\n",
        encoding="utf-8")
    app_log = tmp / "serve.log"
    with app_log.open("wb") as log:
        app = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "serve", "--no-sender",
                                "--no-scheduler"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(app_port, app, app_log)
        wait_for(port, nginx, tmp / "error.log")
        yield Stack(tmp, port, app_port, ssl.create_default_context(cafile=str(tmp / "cert.pem")))
    finally:
        for proc in (nginx, app):
            proc.terminate()
        for proc in (nginx, app):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def trusted(tmp_path):
    yield from stack(tmp_path, "127.0.0.1")


@pytest.fixture
def untrusted(tmp_path):
    yield from stack(tmp_path, "")


@needs_nginx
def test_with_the_trusted_proxy_each_visitor_is_counted_by_their_own_address(trusted):
    s = trusted
    assert [s.complaint_attempt("127.0.0.2") for _ in range(PER_IP + 1)] == [400] * PER_IP + [429]
    assert s.complaint_attempt("127.0.0.3") == 400                  # another visitor: not refused for the first
    # Nobody passes for someone else by writing the header: nginx replaces it with the address it sees.
    assert s.complaint_attempt("127.0.0.2", {"X-Forwarded-For": "198.51.100.9"}) == 429
    assert s.complaint_attempt("127.0.0.4", {"X-Forwarded-For": "127.0.0.2"}) == 400
    # Through the proxy nobody is "local", not even a visitor on this machine; the token header still works.
    for path in ("/healthz", "/readyz", "/livez"):
        assert s.json(path) == (200, {"ok": True}), path
    assert s.json("/healthz?token=" + TOKEN) == (200, {"ok": True})
    status, body = s.json("/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and body["database"] == "ok" and "outbox" in body
    status, body = s.json("/healthz", via_nginx=False)                 # straight to the bot, on the machine
    assert status == 200 and body["database"] == "ok"
    # nginx's body limit for WeCom's callback is the bot's own.
    assert s.request("POST", "/wecom/callback", body=b"x" * (64 * 1024 + 1))[0] == 413
    assert s.request("POST", "/wecom/callback", body=b"x" * (60 * 1024))[0] in (400, 403)   # the bot's own answer
    assert s.request("GET", "/nothing-here")[0] == 404


@needs_nginx
def test_without_the_setting_every_visitor_shares_the_proxys_address_and_still_is_not_local(untrusted):
    s = untrusted
    assert [s.complaint_attempt("127.0.0.2") for _ in range(PER_IP)] == [400] * PER_IP
    assert s.complaint_attempt("127.0.0.3") == 429          # a different visitor, refused: all look like nginx
    for path in ("/healthz", "/readyz", "/livez"):
        assert s.json(path) == (200, {"ok": True}), path
    status, body = s.json("/healthz", via_nginx=False)
    assert status == 200 and body["database"] == "ok"
