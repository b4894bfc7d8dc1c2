"""An expert asks for an assigned application's materials and receives the stored files, nobody else's."""
from sqlalchemy import select

from bot import sample
from workflows.apply.models import Application
from workflows.scoring.models import Assignment

from .conftest import deliver, texts


def test_expert_receives_the_files_of_an_assigned_application_only(cb, rt, wecom, clock):
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "material", clock())
    with rt.sessions() as s:
        a = s.scalars(select(Assignment).order_by(Assignment.id)).first()
        expert, app = a.expert, s.get(Application, a.application_id)
        number, docs = app.number, len([d for d in app.documents if d.status == "received"])
        assigned = {x.application_id for x in s.scalars(select(Assignment).where(Assignment.expert == expert))}
        other = s.scalar(select(Application.number).where(Application.id.not_in(assigned)))
    deliver(rt)  # what the sample itself queued
    uploads_before = len(wecom.calls_to("media/upload"))
    cb.send(cb.text(expert, f"查阅 {number}"))
    deliver(rt)
    files = [m for m in wecom.messages_to(expert) if m.get("msgtype") == "file"]
    uploads = wecom.calls_to("media/upload")[uploads_before:]
    assert docs > 0 and len(files) == docs
    assert uploads == []   # the recommenders' copies were uploaded moments ago: their media_ids are reused
    assert other is not None   # eight applications, five experts each out of six: someone is not assigned
    before = len(wecom.messages_to(expert))
    cb.send(cb.text(expert, f"查阅 {other}"))
    deliver(rt)
    assert len([m for m in wecom.messages_to(expert)[before:] if m.get("msgtype") == "file"]) == 0
    assert f"申报“{other}”没有分配给您" in texts(wecom, expert)[-1]
