import pytest

from workflows.apply.completeness import MaterialItem, Receipt, checklist, material_items

MiB = 1024 * 1024
CONFIG = [
    {"key": "application_form", "name": "申报表", "kinds": ["pdf"], "max_bytes": 20 * MiB},
    {"key": "licence", "name": "营业执照副本", "kinds": ["pdf", "jpeg", "png"], "max_bytes": 10 * MiB},
    {"key": "self_assessment", "name": "自评报告", "kinds": ["pdf", "docx"], "max_bytes": 50 * MiB},
    {"key": "honours", "name": "荣誉证明", "required": False, "kinds": ["pdf", "jpeg"], "max_bytes": 20 * MiB},
    {
        "key": "recommendation",
        "name": "推荐意见",
        "kinds": ["pdf"],
        "max_bytes": 10 * MiB,
        "provided_by": "recommender",
    },
]
ITEMS = tuple(MaterialItem(c["key"], c["name"], c.get("required", True), tuple(c["kinds"]), c["max_bytes"],
                           c.get("provided_by", "applicant")) for c in CONFIG)
APPLICANT_REQUIRED = ["application_form", "licence", "self_assessment"]


def got(key):
    return Receipt(key, "received")


def refused(key, reason):
    return Receipt(key, "rejected", reason)


def test_the_configured_material_list_becomes_items(settings):
    items = material_items(settings)
    assert [i.key for i in items] == [m.key for m in settings.award.materials]
    licence = next(i for i in items if i.key == "business_license")
    assert licence == MaterialItem("business_license", "营业执照", True, ("pdf", "jpeg", "png"), 10 * MiB)
    assert licence.allowed.kinds == frozenset({"pdf", "jpeg", "png"})
    assert next(i for i in items if i.key == "recommendation").provided_by == "recommender"


def test_nothing_received():
    result = checklist(ITEMS, [])
    assert not result.complete
    assert result.missing_required == APPLICANT_REQUIRED
    assert result.awaiting_recommender == ["recommendation"]
    assert {e.state for e in result.entries} == {"missing"}


def test_complete_without_optional_and_recommender_items():
    result = checklist(ITEMS, [got(k) for k in APPLICANT_REQUIRED])
    assert result.complete and result.missing_required == []
    assert result.entry("honours").state == "missing"
    assert result.entry("recommendation").state == "missing"
    assert result.awaiting_recommender == ["recommendation"]


def test_rejected_item_counts_as_missing_with_its_reason():
    receipts = [got("application_form"), refused("licence", "type_not_allowed"), got("self_assessment")]
    result = checklist(ITEMS, receipts)
    assert result.missing_required == ["licence"]
    entry = result.entry("licence")
    assert (entry.state, entry.reason, entry.name) == ("rejected", "type_not_allowed", "营业执照副本")


def test_latest_receipt_decides():
    supplemented = [refused("licence", "unreadable"), refused("licence", "too_large"), got("licence")]
    assert checklist(ITEMS, supplemented).entry("licence").state == "received"
    revoked = [got("licence"), refused("licence", "expired")]  # rejected in formal review
    entry = checklist(ITEMS, revoked).entry("licence")
    assert (entry.state, entry.reason) == ("rejected", "expired")
    latest_reason = [refused("licence", "unreadable"), refused("licence", "too_large")]
    assert checklist(ITEMS, latest_reason).entry("licence").reason == "too_large"


def test_recommender_item_received():
    receipts = [got(k) for k in APPLICANT_REQUIRED] + [got("recommendation")]
    result = checklist(ITEMS, receipts)
    assert result.complete and result.awaiting_recommender == []
    assert result.entry("recommendation").state == "received"


def test_unknown_item_keys_are_reported_not_counted():
    result = checklist(ITEMS, [got("mystery"), got("mystery"), *map(got, APPLICANT_REQUIRED)])
    assert result.complete and result.unexpected == ["mystery"]
    with pytest.raises(KeyError):
        result.entry("mystery")


def test_entries_follow_config_order():
    assert [e.key for e in checklist(ITEMS, []).entries] == [c["key"] for c in CONFIG]
