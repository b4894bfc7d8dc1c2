"""Issue 22.7: a chat file is judged at the time WeCom delivered its callback, not when the sender downloaded
it — for the application's materials and for 补正 alike."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot import sample
from workflows import review
from workflows.apply.models import Application, Document
from workflows.review.models import SupplementRequest

from .application_helpers import APPLICANT, fill_facts, open_apply, pdf
from .conftest import deliver, texts

APPLY_DEADLINE = dt.datetime(2018, 11, 15, 15, 59, 59, tzinfo=dt.timezone.utc)  # 23:59:59 +08:00


def file_sent_then_downloaded_late(cb, rt, wecom, clock, userid: str, name: str, deadline: dt.datetime) -> list[str]:
    """The file's callback 20 s before the deadline, its download (the sender's run) 40 s after it."""
    before = len(texts(wecom, userid))
    clock.set(deadline - dt.timedelta(seconds=20))
    media = wecom.store_media("file", name, "application/octet-stream", pdf(name))
    assert cb.send(cb.file(userid, media.media_id, name)).status == 200
    clock.set(deadline + dt.timedelta(seconds=40))
    deliver(rt)
    return texts(wecom, userid)[before:]


def test_a_chat_file_sent_before_the_deadline_and_downloaded_after_it_is_accepted(cb, rt, wecom, clock):
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    got = file_sent_then_downloaded_late(cb, rt, wecom, clock, APPLICANT, "申请表.pdf", APPLY_DEADLINE)
    assert any("✓ 已收到“申报表”" in t for t in got), got
    with rt.sessions() as s:
        assert s.scalar(select(Document).where(Document.source == "chat")) is not None


def test_a_supplement_file_sent_before_its_deadline_and_downloaded_after_it_is_accepted(cb, rt, wecom, clock):
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "review", clock())
        app = s.query(Application).order_by(Application.id).first()
        applicant = app.applicant
        req = review.request_supplement(s, rt.settings, application_id=app.id, actor="mishu", now=clock(),
                                        items={"business_license": "复印件不清晰"})
        deadline = req.deadline
    deliver(rt)
    cb.send(cb.text(applicant, "申报"))
    cb.send(cb.text(applicant, "1"))
    deliver(rt)
    file_sent_then_downloaded_late(cb, rt, wecom, clock, applicant, "营业执照.pdf", deadline)
    with rt.sessions() as s:
        [item] = s.scalars(select(SupplementRequest)).one().items
        assert item.status == "supplied"
