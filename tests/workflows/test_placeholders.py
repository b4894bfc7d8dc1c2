"""Issue 21 items 5 and 7, without Flask: the notice, the call and its texts refuse example contacts; the proxy
setting replaces proxy_hops."""
from __future__ import annotations

import datetime as dt
import tomllib

import pytest
from sqlalchemy import func, select

from workflows import call, publicity
from workflows.call.models import CallPublication
from workflows.core.errors import InvalidInput
from workflows.core.models import AuditEntry
from workflows.core.settings import ConfigError, load_settings, parse_settings

from ..conftest import ROOT
from .publicity_fixtures import START, committee_result, make_apps

EXAMPLE = load_settings(ROOT / "config.example.toml")


def test_the_notice_and_the_call_refuse_the_example_contacts_listing_each(settings, sessions):
    kept = settings.with_overrides(award=EXAMPLE.award.model_dump())      # the deployment kept the example's
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        committee_result(s, settings, ids[:3], ids[3:])
    for verb in (lambda s: publicity.start_publicity(s, kept, actor="cli", now=START),
                 lambda s: call.record_publication(s, kept, actor="cli", now=START, channel="portal",
                                                   published_on=dt.date(2018, 9, 20)),
                 lambda s: call.call_data(s, kept)):                     # the call's texts are not written either
        with sessions.begin() as s, pytest.raises(InvalidInput) as err:
            verb(s)
        assert err.value.code == "placeholder_contacts"
        assert [(p["key"], p["value"]) for p in err.value.data["placeholders"]] == [
            ("award.secretariat.phone", "0751-0000000"),
            ("award.secretariat.address", EXAMPLE.award.secretariat.address),
            ("award.call.contacts[0].phone", "0751-8888001")]
    with sessions() as s:
        assert publicity.current(s, settings) is None
        assert s.scalar(select(func.count()).select_from(CallPublication)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
    with sessions.begin() as s:                                             # real contacts: both go ahead
        assert publicity.start_publicity(s, settings, actor="cli", now=START) is not None
        call.record_publication(s, settings, actor="cli", now=START, channel="portal", published_on=dt.date(2018, 9, 20))


def raw_config() -> dict:
    return tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))


def test_one_proxy_setting_and_the_old_one_refused_by_name():
    raw = raw_config()
    assert parse_settings(raw).server.trusted_proxy == ""
    raw["server"]["trusted_proxy"] = " 127.0.0.1 "
    assert parse_settings(raw).server.trusted_proxy == "127.0.0.1"
    raw["server"]["trusted_proxy"] = "0:0::1"
    assert parse_settings(raw).server.trusted_proxy == "::1"           # as waitress will see the peer address
    raw["server"]["trusted_proxy"] = "nginx.local"
    with pytest.raises(ConfigError, match=r"server.trusted_proxy: .*not an IP address"):
        parse_settings(raw)
    raw = raw_config()
    raw["complaint_page"]["proxy_hops"] = 0                             # an old configuration's default still loads
    assert parse_settings(raw).complaint_page.proxy_hops == 0
    raw["complaint_page"]["proxy_hops"] = 1
    with pytest.raises(ConfigError, match=r"complaint_page.proxy_hops: .*replaced by \[server\] trusted_proxy"):
        parse_settings(raw)
