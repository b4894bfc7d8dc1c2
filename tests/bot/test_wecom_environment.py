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
    wecom = client(rt.sessions)
    http = wecom._http
    assert http.trust_env is False                                # nothing re-read per call
    assert http.proxies.get("https") == "http://proxy.example:3128"
    assert http.verify == "/etc/ssl/corp.pem"
    assert wecom._pool is None                                    # through a proxy every call goes via requests


def test_no_proxy_for_the_api_host_means_none(monkeypatch, rt):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "qyapi.weixin.qq.com")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    wecom = client(rt.sessions)
    http = wecom._http
    assert http.trust_env is False and http.proxies == {} and http.verify is True
    # JSON posts go straight through urllib3, verifying the API's certificate against requests' bundle.
    assert wecom._pool is not None and wecom._pool.connection_pool_kw["cert_reqs"] == "CERT_REQUIRED"
    assert wecom._pool.connection_pool_kw["ca_certs"]
