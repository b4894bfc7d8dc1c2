"""wechatpy's WeChatClient talks to the fake over HTTP (WECOM.md §5.4)."""

from __future__ import annotations

import io

import pytest
from wechatpy.exceptions import APILimitedException, WeChatClientException
from wechatpy.work import WeChatClient

from tests.bot.simulator.conftest import AGENT_ID, CORP_ID, SECRET


class FakeBackedClient(WeChatClient):
    """WeChatClient whose token fetch goes to the instance's API_BASE_URL."""

    def fetch_access_token(self):
        """Fetch the token from the fake instead of qyapi.weixin.qq.com."""
        return self._fetch_access_token(url=self.API_BASE_URL + "gettoken",
                                        params={"corpid": self.corp_id, "corpsecret": self.secret})


@pytest.fixture
def client(served):
    c = FakeBackedClient(CORP_ID, SECRET, timeout=5)
    c.API_BASE_URL = served.url + "/cgi-bin/"
    yield c
    c._http.close()


def test_send_refresh_limits_update_and_media(fake, client):
    res = client.message.send(AGENT_ID, ["u1"], msg={"msgtype": "template_card", "template_card": {
        "card_type": "button_interaction", "task_id": "b-1", "main_title": {"title": "审核"},
        "button_list": [{"text": "通过", "key": "ok"}]}})
    assert res["errcode"] == 0 and res["response_code"]
    fake.expire_tokens()
    client.message.send_text(AGENT_ID, "u1", "after expiry")  # 42001 -> refetch -> replay
    assert [c.response.get("errcode") for c in fake.calls_to("message/send")] == [0, 42001, 0]
    assert len(fake.calls_to("gettoken")) == 2
    fake.fail_next("message/send", errcode=45009)
    with pytest.raises(APILimitedException):
        client.message.send_text(AGENT_ID, "u1", "limited")
    upd = client.post("message/update_template_card", data={
        "agentid": AGENT_ID, "response_code": res["response_code"], "atall": 1,
        "button": {"replace_name": "已处理"}})
    assert upd["errcode"] == 0
    up = client.media.upload("file", ("报告.pdf", io.BytesIO(b"%PDF"), "application/pdf"))
    got = client.get("media/get", params={"media_id": up["media_id"]})
    assert got.content == b"%PDF"
    with pytest.raises(WeChatClientException) as err:
        client.get("media/get", params={"media_id": "missing"})
    assert err.value.errcode == 40007
    fake.fail_next("message/send", http_status=500)
    with pytest.raises(WeChatClientException):
        client.message.send_text(AGENT_ID, "u1", "boom")


def test_timeout_is_seen_by_client(fake, served):
    import requests

    client = FakeBackedClient(CORP_ID, SECRET, timeout=0.2)
    client.API_BASE_URL = served.url + "/cgi-bin/"
    client.fetch_access_token()
    fake.fail_next("message/send", delay=0.5)
    with pytest.raises(requests.Timeout):
        client.message.send_text(AGENT_ID, "u1", "slow")
    client._http.close()
