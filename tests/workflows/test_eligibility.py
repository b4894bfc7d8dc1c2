import pytest

from workflows.apply.eligibility import Question, evaluate, next_question, parse_yes_no, questions_from_config

# The first edition's defaults: registered in Shaoguan, legal person; plus examples of the
# other kinds a later edition may configure.
CONFIG = [
    {"key": "registered_in_city", "text_key": "eligibility.registered_in_city"},
    {"key": "legal_person", "kind": "must_yes"},
    {"key": "major_accident", "kind": "must_no"},
    {"key": "certified_iso9001", "kind": "info"},
    {"key": "export_share", "kind": "info", "required": False},
]
QUESTIONS = questions_from_config(CONFIG)
ALL_GOOD = {"registered_in_city": True, "legal_person": True, "major_accident": False, "certified_iso9001": False}


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


def test_config_builds_questions_with_defaults():
    q = QUESTIONS[0]
    assert q == Question("registered_in_city", "eligibility.registered_in_city", "must_yes", True)
    assert QUESTIONS[1].text_key == "eligibility.legal_person"
    assert QUESTIONS[2].expected is False and QUESTIONS[3].expected is None
    assert [q.is_condition for q in QUESTIONS] == [True, True, True, False, False]


def test_all_conditions_met_is_eligible():
    result = evaluate(QUESTIONS, ALL_GOOD)
    assert result.eligible and result.complete
    assert result.failed == [] and result.unanswered == []


def test_failed_conditions_are_listed_in_config_order():
    answers = {**ALL_GOOD, "major_accident": True, "registered_in_city": False}
    result = evaluate(QUESTIONS, answers)
    assert not result.eligible
    assert result.failed == ["registered_in_city", "major_accident"]
    assert result.complete


def test_info_answers_never_decide():
    for value in (True, False):
        assert evaluate(QUESTIONS, {**ALL_GOOD, "certified_iso9001": value, "export_share": value}).eligible


def test_unanswered_required_questions_block_eligibility():
    answers = {"registered_in_city": True, "legal_person": None}
    result = evaluate(QUESTIONS, answers)
    assert not result.eligible and not result.complete
    assert result.failed == []
    assert result.unanswered == ["legal_person", "major_accident", "certified_iso9001"]


def test_next_question_walks_the_required_ones_in_order():
    answers: dict[str, bool] = {}
    asked = []
    while (q := next_question(QUESTIONS, answers)) is not None:
        asked.append(q.key)
        answers[q.key] = q.expected if q.expected is not None else True
    assert asked == ["registered_in_city", "legal_person", "major_accident", "certified_iso9001"]
    assert evaluate(QUESTIONS, answers).eligible


@pytest.mark.parametrize(
    "config, fragment",
    [
        ([], "at least one"),
        ([{"text_key": "x"}], "missing 'key'"),
        ([{"key": "a"}, {"key": "a"}], "duplicate key 'a'"),
        ([{"key": "a", "kind": "must"}], "eligibility[0] (a): kind"),
        ([{"key": "a"}, {"key": "b", "required": "yes"}], "eligibility[1] (b): 'required'"),
    ],
)
def test_bad_config_names_the_entry(config, fragment):
    with pytest.raises(ValueError) as info:
        questions_from_config(config)
    assert fragment in str(info.value)
