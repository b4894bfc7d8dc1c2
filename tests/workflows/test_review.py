"""Formal review and supplement requests: decisions once, deadlines capped, expiry with an injected now."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from workflows.core import audit, conversation, stages
from workflows import review
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound, StageClosed, StageNotOpen
from workflows.apply.models import AppStatus, Application, Document
from workflows.core.models import CardTask, OutboxMessage, Person
from workflows.review.models import SupplementRequest

SH = dt.timezone(dt.timedelta(hours=8))
# Inside the formal-review stage (deadline 2018-11-30 23:59:59 +08:00).
T_REVIEW = dt.datetime(2018, 11, 16, 2, 0, tzinfo=dt.timezone.utc)
FULL = ("application_form", "self_assessment", "business_license", "certificates", "financial_statements",
        "safety_declaration")


def add_doc(s, app: Application, key: str, *, now: dt.datetime, kind: str = "pdf", size: int = 1000) -> Document:
    doc = Document(edition=app.edition, application_id=app.id, item_key=key, sha256=hashlib.sha256(f"{app.id}{key}{now}".encode()).hexdigest(),
                   size=size, kind=kind, original_name=f"{key}.{kind}", source="chat", status="received",
                   uploaded_by=app.applicant, uploaded_at=now)
    s.add(doc)
    s.flush()
    return doc


def make_app(s, *, items=FULL, applicant="qiye1", number="SG2018-001", credit="91440200MA00000001",
             now=T_REVIEW) -> Application:
    app = Application(edition="shaoguan-2018", number=number, applicant=applicant, status=AppStatus.RECOMMENDED,
                      enterprise_name="韶关示范制造有限公司", credit_code=credit, region_code="440203",
                      contact_name="张三", contact_phone="13800000000", created_at=now, updated_at=now,
                      submitted_at=now)
    s.add(app)
    s.flush()
    for key in items:
        add_doc(s, app, key, now=now)
    return app


@pytest.fixture
def db(sessions, settings, clock):
    clock.set(T_REVIEW)
    with sessions.begin() as s:
        s.add_all([Person(userid="mishu1", name="秘书甲", role="secretariat", updated_at=T_REVIEW),
                   Person(userid="mishu2", name="秘书乙", role="secretariat", updated_at=T_REVIEW)])
        stages.open_stage(s, settings, "review", actor="system", now=T_REVIEW)
    return sessions


def outbox(s, kind: str) -> list[OutboxMessage]:
    return list(s.query(OutboxMessage).filter_by(kind=kind).order_by(OutboxMessage.id))


def test_open_review_prefills_automatic_findings_and_cards_every_secretariat_member(db, settings):
    with db.begin() as s:
        app = make_app(s, items=("application_form", "self_assessment", "certificates", "financial_statements"))
        add_doc(s, app, "safety_declaration", now=T_REVIEW, kind="xlsx", size=11 * 1024 * 1024)
        r = review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        found = {(f.kind, f.item_key) for f in r.findings}
        assert found == {("missing", "business_license"), ("type", "safety_declaration"),
                         ("size", "safety_declaration")}
        assert all(f.source == "auto" for f in r.findings)
        cards = outbox(s, "review.card")
        assert sorted(c.recipient for c in cards) == ["mishu1", "mishu2"]
        assert "营业执照" in str(cards[0].data["findings"])
        # Reopening replaces the automatic findings rather than piling them up.
        add_doc(s, app, "business_license", now=T_REVIEW)
        r = review.open_review(s, settings, application_id=app.id, actor="mishu1", now=T_REVIEW, to=["mishu1"])
        assert {(f.kind, f.item_key) for f in r.findings} == {("type", "safety_declaration"),
                                                              ("size", "safety_declaration")}


def test_only_recommended_applications_can_be_opened(db, settings):
    with db.begin() as s:
        app = make_app(s)
        app.status = AppStatus.SUBMITTED
        with pytest.raises(InvalidInput) as exc:
            review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        assert exc.value.code == "not_reviewable"


def test_accept_moves_on_and_a_second_decision_is_refused(db, settings):
    with db.begin() as s:
        app = make_app(s)
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        review.accept(s, settings, application_id=app.id, actor="mishu1", now=T_REVIEW)
        assert app.status == AppStatus.ACCEPTED
        for attempt in (lambda: review.accept(s, settings, application_id=app.id, actor="mishu2", now=T_REVIEW),
                        lambda: review.reject(s, settings, application_id=app.id, reason="材料不实",
                                              actor="mishu2", now=T_REVIEW),
                        lambda: review.request_supplement(s, settings, application_id=app.id,
                                                          items={"application_form": "缺章"}, actor="mishu2",
                                                          now=T_REVIEW)):
            with pytest.raises(AlreadyDone) as exc:
                attempt()
            assert exc.value.code == "review_decided" and exc.value.data["by"] == "mishu1"
        assert app.status == AppStatus.ACCEPTED
        assert [e.action for e in audit.entries(s, subject=f"application:{app.id}")] == ["review.open",
                                                                                          "review.accept"]
        assert [n.recipient for n in outbox(s, "review.accepted")] == ["qiye1"]
        assert audit.verify(s).ok


def test_reject_needs_a_reason_and_sends_it(db, settings):
    with db.begin() as s:
        app = make_app(s)
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        for bad in ("", "   ", "长" * 201):
            with pytest.raises(InvalidInput):
                review.reject(s, settings, application_id=app.id, reason=bad, actor="mishu1", now=T_REVIEW)
        assert app.status == AppStatus.RECOMMENDED
        review.reject(s, settings, application_id=app.id, reason="营业执照与申报单位名称不一致", actor="mishu1",
                      now=T_REVIEW)
        assert app.status == AppStatus.REJECTED
        [note] = outbox(s, "review.rejected")
        assert note.recipient == "qiye1" and note.data["reason"] == "营业执照与申报单位名称不一致"


def test_decisions_need_the_review_stage_open_and_not_past(db, settings):
    with db.begin() as s:
        app = make_app(s)
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        late = dt.datetime(2018, 12, 1, 0, 0, tzinfo=SH)
        with pytest.raises(StageClosed):
            review.accept(s, settings, application_id=app.id, actor="mishu1", now=late)
        stages.extend(s, settings, "review", dt.datetime(2018, 12, 5, 23, 59, tzinfo=SH), actor="mishu1",
                      now=late, subject=f"application:{app.id}", reason="企业申请延期")
        review.accept(s, settings, application_id=app.id, actor="mishu1", now=late)
        assert app.status == AppStatus.ACCEPTED


def test_review_stage_not_open(sessions, settings):
    with sessions.begin() as s:
        s.add(Person(userid="mishu1", name="秘书甲", role="secretariat", updated_at=T_REVIEW))
        app = make_app(s)
        with pytest.raises(StageNotOpen):
            review.accept(s, settings, application_id=app.id, actor="mishu1", now=T_REVIEW)


def test_supplement_round_trip(db, settings):
    with db.begin() as s:
        app = make_app(s, items=("application_form", "self_assessment", "certificates", "financial_statements"))
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        req = review.request_supplement(s, settings, application_id=app.id, actor="mishu1", now=T_REVIEW,
                                        items={"business_license": "未提交营业执照",
                                               "safety_declaration": "未提交声明"})
        assert app.status == AppStatus.SUPPLEMENT
        # 7 days on, end of that day in Shaoguan.
        assert req.deadline == dt.datetime(2018, 11, 23, 23, 59, 59, tzinfo=SH)
        [note] = outbox(s, "supplement.notice")
        assert note.recipient == "qiye1"
        assert [(i["name"], i["reason"]) for i in note.data["items"]] == [("营业执照", "未提交营业执照"),
                                                                          ("无重大质量安全环保事故声明", "未提交声明")]
        assert conversation.current(s, "qiye1").flow == "supplement"
        with pytest.raises(InvalidInput) as exc:
            review.accept(s, settings, application_id=app.id, actor="mishu1", now=T_REVIEW)
        assert exc.value.code == "awaiting_supplement"
        with pytest.raises(AlreadyDone):
            review.request_supplement(s, settings, application_id=app.id, items={"certificates": "过期"},
                                      actor="mishu1", now=T_REVIEW)

        later = T_REVIEW + dt.timedelta(days=1)
        d1 = add_doc(s, app, "business_license", now=later)
        result = review.supply_item(s, settings, application_id=app.id, item_key="business_license",
                                    document_id=d1.id, actor="qiye1", now=later)
        assert [i.key for i in result.remaining] == ["safety_declaration"] and not result.complete
        assert app.status == AppStatus.SUPPLEMENT
        [open_one] = review.open_supplements(s, settings)
        assert open_one.applicant == "qiye1" and [i.name for i in open_one.items] == ["无重大质量安全环保事故声明"]

        cards_before = len(outbox(s, "review.card"))
        d2 = add_doc(s, app, "safety_declaration", now=later)
        result = review.supply_item(s, settings, application_id=app.id, item_key="safety_declaration",
                                    document_id=d2.id, actor="qiye1", now=later)
        assert result.complete and app.status == AppStatus.RECOMMENDED
        assert review.open_supplements(s, settings) == []
        assert conversation.current(s, "qiye1") is None
        cards = outbox(s, "review.card")[cards_before:]
        assert sorted(c.recipient for c in cards) == ["mishu1", "mishu2"] and cards[0].data["note"] == "supplied"
        assert [n.recipient for n in outbox(s, "supplement.complete")] == ["qiye1"]
        # The automatic findings were recomputed: nothing is missing any more.
        assert [f for f in review.review_for(s, app.id).findings if f.source == "auto"] == []
        review.accept(s, settings, application_id=app.id, actor="mishu2", now=later)
        assert app.status == AppStatus.ACCEPTED
        actions = [e.action for e in audit.entries(s, subject=f"application:{app.id}")]
        assert actions == ["review.open", "review.supplement", "supplement.supply", "supplement.supply",
                           "supplement.complete", "review.accept"]


def test_insufficient_existing_document_is_marked_rejected(db, settings):
    with db.begin() as s:
        app = make_app(s)
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        review.request_supplement(s, settings, application_id=app.id, items={"certificates": "证书已过期"},
                                  actor="mishu1", now=T_REVIEW)
        old = [d for d in app.documents if d.item_key == "certificates"][0]
        assert (old.status, old.reason) == ("rejected", "证书已过期")
        # The applicant cannot "supply" with the rejected document.
        with pytest.raises(InvalidInput) as exc:
            review.supply_item(s, settings, application_id=app.id, item_key="certificates", document_id=old.id,
                               actor="qiye1", now=T_REVIEW)
        assert exc.value.code == "document_mismatch"


def test_supplement_input_is_validated_without_changes(db, settings):
    with db.begin() as s:
        app = make_app(s)
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        for items, code in (({}, "no_items"), ({"nonsense": "x"}, "unknown_item"),
                            ({"recommendation": "缺推荐意见"}, "unknown_item"),
                            ({"certificates": " "}, "reason_required")):
            with pytest.raises(InvalidInput) as exc:
                review.request_supplement(s, settings, application_id=app.id, items=items, actor="mishu1",
                                          now=T_REVIEW)
            assert exc.value.code == code
        assert app.status == AppStatus.RECOMMENDED and s.query(SupplementRequest).count() == 0
        with pytest.raises(NotFound):
            review.find_application(s, settings, "SG2018-999")
        assert review.find_application(s, settings, "SG2018-001").id == app.id


def test_supply_refuses_strangers_unrequested_items_and_late_files(db, settings):
    with db.begin() as s:
        app = make_app(s)
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        req = review.request_supplement(s, settings, application_id=app.id, items={"certificates": "已过期"},
                                        actor="mishu1", now=T_REVIEW)
        doc = add_doc(s, app, "certificates", now=T_REVIEW)
        other = add_doc(s, app, "self_assessment", now=T_REVIEW)
        with pytest.raises(NotFound):
            review.supply_item(s, settings, application_id=app.id, item_key="certificates", document_id=doc.id,
                               actor="someone", now=T_REVIEW)
        with pytest.raises(InvalidInput) as exc:
            review.supply_item(s, settings, application_id=app.id, item_key="self_assessment",
                               document_id=other.id, actor="qiye1", now=T_REVIEW)
        assert exc.value.code == "item_not_requested"
        with pytest.raises(StageClosed) as exc:
            review.supply_item(s, settings, application_id=app.id, item_key="certificates", document_id=doc.id,
                               actor="qiye1", now=req.deadline + dt.timedelta(seconds=1))
        assert exc.value.code == "supplement_expired"
        assert all(i.status == "pending" for i in req.items)


def test_deadline_is_capped_at_the_review_stage_deadline_unless_extended(db, settings):
    near_end = dt.datetime(2018, 11, 27, 10, 0, tzinfo=SH)
    with db.begin() as s:
        a1 = make_app(s)
        a2 = make_app(s, applicant="qiye2", number="SG2018-002", credit="91440200MA00000002")
        for a in (a1, a2):
            review.open_review(s, settings, application_id=a.id, actor="system", now=near_end)
        r1 = review.request_supplement(s, settings, application_id=a1.id, items={"certificates": "过期"},
                                       actor="mishu1", now=near_end)
        assert r1.deadline == settings.award.stage("review").deadline
        assert outbox(s, "supplement.notice")[0].data["capped"] is True
        stages.extend(s, settings, "review", dt.datetime(2018, 12, 10, 23, 59, 59, tzinfo=SH), actor="mishu1",
                      now=near_end, subject=f"application:{a2.id}")
        r2 = review.request_supplement(s, settings, application_id=a2.id, items={"certificates": "过期"},
                                       actor="mishu1", now=near_end)
        assert r2.deadline == dt.datetime(2018, 12, 4, 23, 59, 59, tzinfo=SH)


def test_expire_due_with_injected_now(db, settings):
    with db.begin() as s:
        app = make_app(s)
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        req = review.request_supplement(s, settings, application_id=app.id, items={"certificates": "过期"},
                                        actor="mishu1", now=T_REVIEW)
        deadline = req.deadline
    with db.begin() as s:
        assert review.expire_due(s, settings, now=deadline) == []  # not yet: the deadline itself still counts
        assert [p.application_id for p in review.pending_for_secretariat(s, settings)] == [app.id]
        assert review.pending_for_secretariat(s, settings)[0].supplement_deadline == deadline
    with db.begin() as s:
        cards_before = len(outbox(s, "review.card"))
        assert review.expire_due(s, settings, now=deadline + dt.timedelta(seconds=1)) == [app.id]
        assert review.expire_due(s, settings, now=deadline + dt.timedelta(hours=1)) == []  # once only
        app = s.get(Application, app.id)
        assert app.status == AppStatus.RECOMMENDED
        assert s.get(SupplementRequest, req.id).status == "expired"
        assert review.open_supplements(s, settings) == []
        assert conversation.current(s, "qiye1") is None
        [told] = outbox(s, "supplement.expired")
        assert told.recipient == "qiye1" and told.data["items"][0]["key"] == "certificates"
        cards = outbox(s, "review.card")[cards_before:]
        assert sorted(c.recipient for c in cards) == ["mishu1", "mishu2"] and cards[0].data["note"] == "expired"
        # The secretariat can now decide (or ask again: a second round).
        r2 = review.request_supplement(s, settings, application_id=app.id, items={"certificates": "仍需补交"},
                                       actor="mishu1", now=deadline + dt.timedelta(hours=2))
        assert r2.round == 2


def test_pending_includes_endorsed_applications_without_a_review(db, settings):
    with db.begin() as s:
        a1 = make_app(s)
        a2 = make_app(s, applicant="qiye2", number="SG2018-002", credit="91440200MA00000002")
        review.open_review(s, settings, application_id=a1.id, actor="system", now=T_REVIEW)
        review.accept(s, settings, application_id=a1.id, actor="mishu1", now=T_REVIEW)
        assert [p.application_id for p in review.pending_for_secretariat(s, settings)] == [a2.id]


def test_authenticity_concern_is_a_finding(db, settings):
    with db.begin() as s:
        app = make_app(s)
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        review.add_finding(s, settings, application_id=app.id, kind="authenticity", item_key="certificates",
                           detail="证书编号在认证机构网站查询不到", actor="mishu1", now=T_REVIEW)
        with pytest.raises(InvalidInput):
            review.add_finding(s, settings, application_id=app.id, kind="gossip", detail="x", actor="mishu1",
                               now=T_REVIEW)
        [f] = [f for f in review.review_for(s, app.id).findings if f.source == "secretariat"]
        assert (f.kind, f.item_key, f.created_by) == ("authenticity", "certificates", "mishu1")
        assert audit.entries(s, action="review.finding.authenticity")[0].details["detail"].startswith("证书编号")


def test_decision_closes_the_other_members_cards(db, settings):
    with db.begin() as s:
        app = make_app(s)
        review.open_review(s, settings, application_id=app.id, actor="system", now=T_REVIEW)
        # Pretend the sender delivered mishu2's card and got its send-time response code.
        for row in outbox(s, "review.card"):
            row.status, row.result = "sent", {"response_code": f"rc-{row.recipient}"}
        review.accept(s, settings, application_id=app.id, actor="mishu1", now=T_REVIEW)
        assert s.query(CardTask).filter_by(status="open").count() == 0
        updates = s.query(OutboxMessage).filter_by(action="update_card").all()
        assert sorted(u.data["response_code"] for u in updates) == ["rc-mishu1", "rc-mishu2"]
        assert {u.data["replace_name"] for u in updates} == {"accepted"}  # the label key; templates/_labels.j2 shows 已受理
