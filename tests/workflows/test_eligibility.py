import pytest

from workflows.apply.eligibility import parse_yes_no, unmet
from workflows.core.settings import EligibilityConf

@pytest.mark.parametrize(
    "text", ["是", "是的", "有", "yes", "YES", "Yes", "y", "1", "１", "ｙｅｓ", " 是。", "是！", "Y\u3000"]
)
def test_yes(text):
    assert parse_yes_no(text) is True


@pytest.mark.parametrize("text", ["否", "不是", "没有", "无", "no", "N", "0", "０", "ＮＯ", "否。", "  no! "])
def test_no(text):
    assert parse_yes_no(text) is False


@pytest.mark.parametrize("text", [None, "", "   ", "也许", "maybe", "2", "是否", "yes no", "。"])
def test_unrecognised(text):
    assert parse_yes_no(text) is None


def test_custom_vocabulary():
    assert parse_yes_no("ja", yes_words=frozenset({"ja"}), no_words=frozenset({"nein"})) is True
    assert parse_yes_no("是", yes_words=frozenset({"ja"}), no_words=frozenset({"nein"})) is None


def _q(key, kind="must_yes"):
    return EligibilityConf(key=key, question=key, kind=kind)


def test_unmet_lists_every_condition_not_answered_yes():
    qs = [_q("registered_in_city"), _q("legal_person"), _q("iso9001", "info")]
    assert unmet(qs, {"registered_in_city": True, "legal_person": True, "iso9001": False}) == []
    assert unmet(qs, {"registered_in_city": True, "legal_person": False}) == ["legal_person"]
    assert unmet(qs, {}) == ["registered_in_city", "legal_person"]  # a missing answer is not a pass
    assert unmet(qs, {"registered_in_city": "是", "legal_person": True}) == ["registered_in_city"]
