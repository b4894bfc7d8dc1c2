"""The WeCom client reads the environment's proxy and CA settings once, when it is built (issue 16.2):
requests would re-read them (and ~/.netrc) on every call. The settings still apply to the API host."""
from __future__ import annotations

from bot.wecom.client import WeComClient


def client(sessions, url="https://qyapi.weixin.qq.com") -> WeComClient:
    return WeComClient(corp_id="ww1", secret="s", api_base_url=url, timeout=5, sessions=sessions)


def test_the_environments_proxy_and_ca_bundle_are_kept(monkeypatch, rt):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp.pem")
    http = client(rt.sessions)._http
    assert http.trust_env is False                                # nothing re-read per call
    assert http.proxies.get("https") == "http://proxy.example:3128"
    assert http.verify == "/etc/ssl/corp.pem"


def test_no_proxy_for_the_api_host_means_none(monkeypatch, rt):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "qyapi.weixin.qq.com")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    http = client(rt.sessions)._http
    assert http.trust_env is False and http.proxies == {} and http.verify is True
