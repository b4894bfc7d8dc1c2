"""Contact phone numbers: mainland mobile numbers and, optionally, landlines.

Mobile: 11 digits starting with 1[3-9]; a leading +86 / 0086 / 86 country code, spaces,
hyphens, dots and parentheses are tolerated and removed; full-width input is accepted.
Landline (区号-号码): a 3- or 4-digit area code starting with 0 (010, 02x are 3 digits,
the rest 4, e.g. Shaoguan 0751) and a 7- or 8-digit local number not starting with 0 or 1,
with an optional extension. It is normalised to ``0751-8123456`` (``-123`` extension).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

PhoneKind = Literal["mobile", "landline"]

_SEPARATORS = re.compile(r"[\s\-.()（）]+")
_COUNTRY = re.compile(r"^(?:\+86|0086|86(?=1\d{10}$))")
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_ALLOWED_CHARS = re.compile(r"^[\d\s\-.()（）+]+$", re.ASCII)
# Area code: 010 / 02x (three digits) or 0[3-9]xx (four digits); local number 7-8 digits.
_LANDLINE = re.compile(r"^(?P<area>0(?:10|2\d|[3-9]\d{2}))(?P<local>[2-9]\d{6,7})$", re.ASCII)
_EXTENSION = re.compile(
    r"^(?P<main>.+?)(?:转|ext\.?|x|#)(?P<ext>\d{1,6})$", re.IGNORECASE | re.ASCII
)
_LANDLINE_NOISE = re.compile(r"[\s.()（）]+")


@dataclass(frozen=True)
class PhoneError:
    """Why a text is not an acceptable phone number; ``code`` selects the message template."""

    code: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Phone:
    """A normalised phone number."""

    number: str
    kind: PhoneKind

    def __str__(self) -> str:
        return self.number


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def validate_mobile(text: str) -> Phone | PhoneError:
    """Validate a mainland mobile number and return it as 11 bare digits."""
    raw = _clean(text)
    if not raw:
        return PhoneError("empty")
    if not _ALLOWED_CHARS.match(raw) or "+" in raw[1:]:
        return PhoneError("bad_character")
    digits = _COUNTRY.sub("", _SEPARATORS.sub("", raw))
    if digits.startswith("+"):
        return PhoneError("bad_country_code")
    if len(digits) != 11:
        return PhoneError("wrong_length", {"length": len(digits), "expected": 11})
    if not _MOBILE.match(digits):
        return PhoneError("bad_prefix", {"prefix": digits[:2]})
    return Phone(digits, "mobile")


def validate_landline(text: str) -> Phone | PhoneError:
    """Validate a mainland landline written with its area code, e.g. 0751-8123456."""
    raw = _LANDLINE_NOISE.sub("", _clean(text))
    if not raw:
        return PhoneError("empty")
    main, ext = raw, ""
    explicit = _EXTENSION.match(raw)
    if explicit:
        main, ext = explicit["main"], explicit["ext"]
    match = _LANDLINE.match(main.replace("-", ""))
    if not match and not explicit and "-" in main:
        # "0751-8123456-123": the last hyphen group may be an extension.
        head, _, tail = main.rpartition("-")
        if tail.isascii() and tail.isdigit() and len(tail) <= 6:
            match, ext = _LANDLINE.match(head.replace("-", "")), tail
    if not match:
        return PhoneError("bad_landline")
    number = f"{match['area']}-{match['local']}"
    return Phone(f"{number}-{ext}" if ext else number, "landline")


def validate_contact_phone(text: str, *, allow_landline: bool = True) -> Phone | PhoneError:
    """Validate a contact phone: a mobile number, or a landline when allowed."""
    mobile = validate_mobile(text)
    if isinstance(mobile, Phone) or not allow_landline or mobile.code == "empty":
        return mobile
    landline = validate_landline(text)
    if isinstance(landline, Phone):
        return landline
    # Report the landline error only when the input looks like a landline attempt.
    looks_landline = _clean(text).lstrip("(（").startswith("0")
    return landline if looks_landline else mobile
