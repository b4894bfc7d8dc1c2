import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.apply.creditcode import (
    ALPHABET,
    WARNING_ORG_CHECK_DIGIT,
    CodeError,
    CreditCode,
    check_character,
    is_in_region,
    org_check_digit,
    validate_credit_code,
    with_check_character,
    with_check_digits,
)

SHAOGUAN = ("4402",)

# Published codes of well-known enterprises; each verifies by the GB 32100 algorithm.
PUBLISHED = [
    "91350100M000100Y43",  # the example used in GB 32100 explanations (Fuzhou)
    "9144030071526726XG",  # Shenzhen, a Tencent company
    "914403001922038216",  # Shenzhen, Huawei Technologies
    "91330100799655058B",  # Hangzhou, an Alibaba company
    "91110108551385082Q",  # Beijing Haidian, a Xiaomi company
]


def shaoguan_code(district: str = "440203", org8: str = "MA4UABC1") -> str:
    return with_check_digits("91" + district + org8)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    result = validate_credit_code(code)
    assert isinstance(result, CreditCode)
    assert result.value == code
    assert result.warnings == ()
    assert result.is_enterprise


@pytest.mark.parametrize("district", ["440200", "440203", "440204", "440205", "440222", "440281"])
def test_constructed_shaoguan_codes_are_valid_and_in_region(district):
    code = shaoguan_code(district)
    result = validate_credit_code(code)
    assert isinstance(result, CreditCode), result
    assert result.region_code == district
    assert result.authority == "9" and result.entity_type == "1"
    assert is_in_region(result, SHAOGUAN)
    assert is_in_region(code, SHAOGUAN)


def test_region_outside_shaoguan():
    shenzhen = validate_credit_code("9144030071526726XG")
    assert isinstance(shenzhen, CreditCode)
    assert shenzhen.region_code == "440300"
    assert not is_in_region(shenzhen, SHAOGUAN)
    assert is_in_region(shenzhen, ("4402", "4403"))
    assert not is_in_region(shenzhen, ())


def test_full_width_spaces_and_lower_case_are_normalised():
    code = shaoguan_code()
    typed = full_width(code[:6].lower()) + "\u3000" + code[6:12].lower() + " - " + code[12:]
    result = validate_credit_code(typed)
    assert isinstance(result, CreditCode)
    assert result.value == code


@pytest.mark.parametrize("text", ["", "   ", "9144020", shaoguan_code() + "1", shaoguan_code()[:17]])
def test_wrong_length(text):
    result = validate_credit_code(text)
    assert isinstance(result, CodeError) and result.code == "wrong_length"
    assert result.data["expected"] == 18


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "*", "中"])
def test_bad_character_reports_position(bad):
    code = shaoguan_code()
    text = code[:10] + bad + code[11:]
    result = validate_credit_code(text)
    assert isinstance(result, CodeError) and result.code == "bad_character"
    assert result.data == {"position": 11, "character": bad}


def test_bad_check_character():
    code = shaoguan_code()
    wrong = ALPHABET[(ALPHABET.index(code[-1]) + 1) % 31]
    result = validate_credit_code(code[:-1] + wrong)
    assert isinstance(result, CodeError) and result.code == "bad_check_character"
    assert result.data == {"given": wrong, "expected": code[-1]}


def test_org_check_digit_is_a_warning_by_default_and_an_error_when_enforced():
    prefix = "91440203MA4UABC1"
    good_digit = org_check_digit(prefix[8:])
    bad_digit = "0" if good_digit != "0" else "1"
    code = with_check_character(prefix + bad_digit)  # position 18 is right
    lenient = validate_credit_code(code)
    assert isinstance(lenient, CreditCode)
    assert lenient.warnings == (WARNING_ORG_CHECK_DIGIT,)
    strict = validate_credit_code(code, enforce_org_check_digit=True)
    assert isinstance(strict, CodeError) and strict.code == "bad_org_check_digit"
    assert strict.data == {"given": bad_digit, "expected": good_digit}
    assert validate_credit_code(with_check_digits(prefix), enforce_org_check_digit=True).warnings == ()


def test_org_check_digit_examples():
    # GB 11714 worked values: X for 10, 0 for 11.
    assert org_check_digit("71526726") == "X"
    assert org_check_digit("19220382") == "1"
    assert {org_check_digit(f"{n:08d}") for n in range(200)} >= {"X", "0"}


@pytest.mark.parametrize(
    "prefix, code",
    [
        ("B1440203", "bad_authority"),
        ("94440203", "bad_entity_type"),
        ("Y2440203", "bad_entity_type"),
        ("91990203", "bad_region"),
        ("9144A203", "bad_region"),
    ],
)
def test_authority_type_and_region_plausibility(prefix, code):
    result = validate_credit_code(with_check_digits(prefix + "MA4UABC1"))
    assert isinstance(result, CodeError) and result.code == code


def test_other_authorities_are_accepted():
    for prefix in ("12440200", "51440200", "93440200", "92440203", "N2440205", "Y1440200"):
        result = validate_credit_code(with_check_digits(prefix + "00012345"))
        assert isinstance(result, CreditCode), (prefix, result)
    assert not validate_credit_code(with_check_digits("92440203" + "L1234567")).is_enterprise


def test_check_character_rejects_bad_bodies():
    with pytest.raises(ValueError):
        check_character("91440203MA4UABC1")  # 16
    with pytest.raises(ValueError):
        check_character("91440203MA4UABCIX")  # I not in the alphabet


bodies = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9)


@given(body=bodies)
def test_with_check_character_always_validates(body):
    code = with_check_character("91440204" + body)
    result = validate_credit_code(code)
    assert isinstance(result, CreditCode)
    assert result.value == code


@given(body=bodies, position=st.integers(0, 17), shift=st.integers(1, 30))
def test_any_single_substitution_is_detected(body, position, shift):
    code = with_check_character("91440204" + body)
    changed = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    mutated = code[:position] + changed + code[position + 1 :]
    assert isinstance(validate_credit_code(mutated), CodeError)
