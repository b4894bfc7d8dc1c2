"""Issue 12 item 12: a chat download that can never succeed (too large, wrong type) is refused at once —
one attempt, the member told why — and the size limit holds while streaming, not after reading it all."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.wecom.client import DOWNLOAD_CHUNK, MediaRejected
from workflows.apply.models import Document
from workflows.core.models import OutboxMessage

from .application_helpers import APPLICANT, fill_facts, open_apply, pdf, send_file
from .conftest import deliver, texts

MB = 1 << 20


def test_a_chunked_file_is_read_only_up_to_the_limit(rt, wecom):
    media_id = wecom.store_generated_media("big.pdf", 64 * MB)       # no Content-Length: only reading tells
    with pytest.raises(MediaRejected) as info:
        rt.client.download_media(media_id, 1 * MB, ("pdf",))
    assert info.value.code == "too_large" and not rt.sender._retryable(info.value)
    assert 1 * MB < info.value.read <= 1 * MB + DOWNLOAD_CHUNK     # stopped at limit + one chunk
    assert wecom.media_served[media_id] < 32 * MB                   # the rest was never sent


def test_an_announced_size_over_the_limit_reads_no_body(rt, wecom):
    media_id = wecom.store_generated_media("big.pdf", 64 * MB, announce_length=True)
    with pytest.raises(MediaRejected) as info:
        rt.client.download_media(media_id, 1 * MB, ("pdf",))
    assert (info.value.code, info.value.read) == ("too_large", 0)
    assert wecom.media_served[media_id] < 32 * MB


def test_a_wrong_type_is_refused_before_the_body(rt, wecom):
    media = wecom.store_media("file", "setup.exe", "application/octet-stream", b"MZ" + b"\0" * 1000)
    with pytest.raises(MediaRejected) as info:
        rt.client.download_media(media.media_id, 1 * MB, ("pdf", "docx"))
    assert (info.value.code, info.value.read, info.value.data["declared"]) == ("type_not_allowed", 0, "exe")
    # within the limit and of an accepted type: the bytes come back whole
    ok = wecom.store_media("file", "a.pdf", "application/pdf", pdf("x"))
    assert rt.client.download_media(ok.media_id, 1 * MB, ("pdf",)) == (pdf("x"), "a.pdf")


def chat_file(cb, rt, wecom, media_id: str, name: str) -> list[str]:
    before = len(texts(wecom, APPLICANT))
    rt.clock.advance(seconds=10)
    assert cb.send(cb.file(APPLICANT, media_id, name)).status == 200
    deliver(rt)
    return texts(wecom, APPLICANT)[before:]


def fetch_rows(rt) -> list[OutboxMessage]:
    with rt.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.action == "fetch_media")
                              .order_by(OutboxMessage.id)))


@pytest.mark.parametrize("announce", [False, True])
def test_a_too_large_chat_file_is_refused_once_and_politely(cb, rt, wecom, clock, announce):
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    limit = rt.settings.award.material("application_form").max_mb   # the item the next file is for
    media_id = wecom.store_generated_media("申请表.pdf", limit * MB + 3 * DOWNLOAD_CHUNK, announce_length=announce)
    got = chat_file(cb, rt, wecom, media_id, "申请表.pdf")
    assert any("未被接收" in t and "文件超过大小上限" in t and f"不超过 {limit} MB" in t for t in got), got
    row = fetch_rows(rt)[-1]
    assert (row.status, row.attempts) == ("dead", 1) and "413" in row.last_error
    clock.advance(hours=2)                                            # no retry comes later
    deliver(rt)
    assert len(wecom.calls_to("media/get")) == 1
    assert wecom.media_served[media_id] <= limit * MB + 3 * DOWNLOAD_CHUNK
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0
    got = send_file(cb, rt, wecom, APPLICANT, "申请表.pdf", pdf("ok"))  # a right file is then accepted
    assert any("已收到“申报表”" in t for t in got), got


def test_a_wrong_type_chat_file_is_refused_once_and_politely(cb, rt, wecom, clock):
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    media = wecom.store_media("file", "申请表.exe", "application/octet-stream", b"MZ" + b"\0" * 4096)
    got = chat_file(cb, rt, wecom, media.media_id, "申请表.exe")
    assert any("未被接收" in t and "文件类型不符合要求" in t and "PDF" in t for t in got), got
    row = fetch_rows(rt)[-1]
    assert (row.status, row.attempts) == ("dead", 1)
    clock.advance(hours=2)
    deliver(rt)
    assert len(wecom.calls_to("media/get")) == 1


def test_a_download_with_an_expired_token_refreshes_it_once(rt, wecom):
    ok = wecom.store_media("file", "a.pdf", "application/pdf", pdf("x"))
    assert rt.client.download_media(ok.media_id, 1 * MB)[0] == pdf("x")
    wecom.expire_tokens()
    assert rt.client.download_media(ok.media_id, 1 * MB)[0] == pdf("x")
    assert rt.client.tokens.fetches == 2
    wecom.fail_next("media/get", errcode=40007)       # an error answer is an error, not a file
    with pytest.raises(Exception) as info:
        rt.client.download_media(ok.media_id, 1 * MB)
    assert getattr(info.value, "errcode", None) == 40007
