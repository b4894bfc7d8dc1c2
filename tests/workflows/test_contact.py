import pytest

from workflows.core.contact import Phone, PhoneError, validate_contact_phone, validate_landline, validate_mobile


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        " 138 1234 5678 ",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-13812345678",
        "8613812345678",
        "１３８１２３４５６７８",  # full-width digits
        "＋８６　１３８－１２３４－５６７８",
    ],
)
def test_mobile_variants_normalise_to_eleven_digits(text):
    assert validate_mobile(text) == Phone("13812345678", "mobile")


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_all_mobile_prefixes(prefix):
    assert isinstance(validate_mobile(prefix + "012345678"), Phone)


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1381234567", "wrong_length"),
        ("138123456789", "wrong_length"),
        ("12812345678", "bad_prefix"),
        ("10012345678", "bad_prefix"),
        ("23812345678", "bad_prefix"),
        ("138abc45678", "bad_character"),
        ("138 1234 567８a", "bad_character"),
        ("138+12345678", "bad_character"),
        ("+1 415 555 0123", "bad_country_code"),
    ],
)
def test_mobile_errors(text, code):
    result = validate_mobile(text)
    assert isinstance(result, PhoneError) and result.code == code


def test_wrong_length_reports_length():
    assert validate_mobile("138123").data == {"length": 6, "expected": 11}


@pytest.mark.parametrize(
    "text, number",
    [
        ("0751-8123456", "0751-8123456"),
        ("0751 8123456", "0751-8123456"),
        ("07518123456", "0751-8123456"),
        ("(0751)8123456", "0751-8123456"),
        ("（0751）812 3456", "0751-8123456"),
        ("０７５１－８１２３４５６", "0751-8123456"),
        ("010-88886666", "010-88886666"),
        ("020-81234567", "020-81234567"),
        ("0751-8123456-802", "0751-8123456-802"),
        ("0751-8123456转802", "0751-8123456-802"),
        ("0751-8123456 ext. 802", "0751-8123456-802"),
    ],
)
def test_landline_forms(text, number):
    assert validate_landline(text) == Phone(number, "landline")
    assert validate_contact_phone(text) == Phone(number, "landline")


@pytest.mark.parametrize(
    "text", ["0751-0123456", "0751-812345", "0751", "0751-8123456-1234567", "(0751)"]
)
def test_bad_landlines(text):
    result = validate_contact_phone(text)
    assert isinstance(result, PhoneError) and result.code == "bad_landline"


def test_landline_needs_the_leading_zero_of_the_area_code():
    assert validate_landline("751-8123456") == PhoneError("bad_landline")
    # Without a leading 0 the input reads as a mobile attempt and gets the mobile error.
    assert validate_contact_phone("751-8123456").code == "wrong_length"


def test_contact_phone_prefers_mobile_and_reports_mobile_errors():
    assert validate_contact_phone("+86 13912345678") == Phone("13912345678", "mobile")
    result = validate_contact_phone("1391234567")
    assert isinstance(result, PhoneError) and result.code == "wrong_length"


def test_landline_can_be_disallowed():
    result = validate_contact_phone("0751-8123456", allow_landline=False)
    assert isinstance(result, PhoneError) and result.code == "bad_prefix"
