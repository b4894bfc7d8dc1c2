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


def test_an_expert_gets_the_current_documents_only_and_the_pages_show_the_same(cb, rt, wecom, clock, app):
    """A draft replaced before submission and a file the secretariat rejected are neither sent nor listed."""
    import io

    from workflows import apply as apply_
    from workflows.apply.application import record_document
    from workflows.documents.store import AllowedTypes, DocumentStore

    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "material", clock())
    with rt.sessions.begin() as s:
        a = s.scalars(select(Assignment).order_by(Assignment.id)).first()
        expert, target = a.expert, s.get(Application, a.application_id)
        first, second, *_ = sorted(apply_.current_documents(target).values(), key=lambda d: d.id)
        store = DocumentStore.from_settings(rt.settings.storage)
        item = rt.settings.award.material(first.item_key)
        stored = store.store(io.BytesIO(b"%PDF-1.4\n%new version\n%%EOF\n"), original_name="新版.pdf",
                             allowed=AllowedTypes.from_config(item.kinds), max_bytes=item.max_bytes)
        new, replaced = record_document(s, rt.settings, target, item_key=first.item_key, stored=stored,
                                        source="page", actor=target.applicant, now=clock())
        assert replaced.id == first.id
        second.status, second.reason = "rejected", "复印件不清晰"
        number, old_name, rejected_name = target.number, first.original_name, second.original_name
        expected = sorted(d.original_name for d in apply_.current_documents(target).values())
        app_id, old_id, rejected_id = target.id, first.id, second.id
    assert "新版.pdf" in expected and old_name not in expected and rejected_name not in expected
    deliver(rt)
    before = len(wecom.messages_to(expert))
    cb.send(cb.text(expert, f"查阅 {number}"))
    deliver(rt)
    files = [m for m in wecom.messages_to(expert)[before:] if m.get("msgtype") == "file"]
    assert sorted(wecom.media(m["file"]["media_id"]).filename for m in files) == expected
    assert f"的 {len(expected)} 份申报材料" in texts(wecom, expert)[-1]
    # The material page lists the same documents and serves no other.
    http = app.test_client()
    token = rt.services["links"].view_token(app_id, "mishu")
    page = http.get(f"/materials/{token}").get_data(as_text=True)
    assert "新版.pdf" in page and old_name not in page and rejected_name not in page
    assert http.get(f"/materials/{token}/{old_id}").status_code == 404
    assert http.get(f"/materials/{token}/{rejected_id}").status_code == 404
