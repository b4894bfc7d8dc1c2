"""Unified social credit code (统一社会信用代码, GB 32100-2015).

Layout of the 18 characters (1-based positions):

    1      registration authority code (9 = market regulation / 工商, 1 = 机构编制, ...)
    2      entity type within that authority (for 9: 1 enterprise, 2 sole trader, 3 co-op)
    3-8    administrative division code of the registering authority (GB/T 2260)
    9-17   organisation code (GB 11714): 8 body characters and its own check digit
    18     check character over positions 1-17 (modulo 31 in the 31-letter alphabet)

Decisions:

* Input is normalised first: NFKC (full-width letters and digits become ASCII, the
  ideographic space becomes a space), every whitespace character and hyphen is removed,
  letters are upper-cased.
* The check character at position 18 is always enforced: it is what GB 32100 defines.
* The GB 11714 check digit at position 17 is *not* enforced by default. Codes issued to
  sole traders (个体工商户) and codes converted from older registrations often carry an
  organisation part whose check digit does not verify, yet the 18th character does and
  the code is genuine. A mismatch is reported as the warning ``org_check_digit_mismatch``
  on the result; callers that want the strict behaviour pass
  ``enforce_org_check_digit=True`` and get ``bad_org_check_digit``.
* Positions 1 and 2 are checked against the tables of GB 32100 appendix A
  (``bad_authority``, ``bad_entity_type``); positions 3-8 must be six digits whose
  province part is a real province-level code (``bad_region``). The region check is
  deliberately coarse: division codes change over time (districts are merged and renamed)
  and an enterprise keeps its code, so no list of current divisions is consulted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
LENGTH = 18

# GB 32100-2015 appendix A: registration authority -> entity types it issues.
AUTHORITY_TYPES: Mapping[str, frozenset[str]] = {
    "1": frozenset("1239"),  # 机构编制: 机关, 事业单位, 群众团体, 其他
    "2": frozenset("19"),  # 外交
    "3": frozenset("1234569"),  # 司法行政 (律师事务所, 公证处, ...)
    "4": frozenset("19"),  # 文化
    "5": frozenset("1239"),  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": frozenset("129"),  # 旅游
    "7": frozenset("129"),  # 宗教
    "8": frozenset("19"),  # 工会
    "9": frozenset("123"),  # 工商 / 市场监管: 企业, 个体工商户, 农民专业合作社
    "A": frozenset("19"),  # 中央军委改革和编制办公室
    "N": frozenset("1239"),  # 农业: 农村集体经济组织
    "Y": frozenset("1"),  # 其他
}

# GB/T 2260 province-level codes (first two digits of the division code).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

WARNING_ORG_CHECK_DIGIT = "org_check_digit_mismatch"

_STRIP = re.compile(r"[\s\-_]+")


@dataclass(frozen=True)
class CodeError:
    """Why a text is not a valid credit code; ``code`` selects the message template."""

    code: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreditCode:
    """A validated, normalised unified social credit code."""

    value: str
    warnings: tuple[str, ...] = ()

    @property
    def authority(self) -> str:
        """Registration authority code (position 1)."""
        return self.value[0]

    @property
    def entity_type(self) -> str:
        """Entity type code within the authority (position 2)."""
        return self.value[1]

    @property
    def region_code(self) -> str:
        """Six-digit administrative division code of the registering authority."""
        return self.value[2:8]

    @property
    def organisation_code(self) -> str:
        """Nine-character organisation code (positions 9-17)."""
        return self.value[8:17]

    @property
    def is_enterprise(self) -> bool:
        """True for codes issued by market regulation to an enterprise (prefix 91)."""
        return self.value.startswith("91")

    def __str__(self) -> str:
        return self.value


def normalize(text: str) -> str:
    """Normalise user input: full-width to half-width, drop spaces and hyphens, upper-case."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text)).upper()


def check_character(body17: str) -> str:
    """Compute the GB 32100 check character for 17 characters of the alphabet."""
    if len(body17) != LENGTH - 1 or any(ch not in _VALUE for ch in body17):
        raise ValueError("body must be 17 characters of the credit code alphabet")
    total = sum(_VALUE[ch] * w for ch, w in zip(body17, _WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def org_check_digit(body8: str) -> str:
    """Compute the GB 11714 check digit for the 8-character organisation code body."""
    if len(body8) != 8 or not body8.isascii() or not body8.isalnum():
        raise ValueError("organisation code body must be 8 ASCII letters or digits")
    total = sum(int(ch, 36) * w for ch, w in zip(body8.upper(), _ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def with_check_character(body17: str) -> str:
    """Return the 18-character code for a 17-character body (used to build test data)."""
    body17 = normalize(body17)
    return body17 + check_character(body17)


def with_check_digits(prefix16: str) -> str:
    """Complete 16 characters (positions 1-16) with both the org check digit and position 18."""
    prefix16 = normalize(prefix16)
    if len(prefix16) != 16:
        raise ValueError("prefix must be 16 characters")
    return with_check_character(prefix16 + org_check_digit(prefix16[8:16]))


def validate_credit_code(
    text: str, *, enforce_org_check_digit: bool = False
) -> CreditCode | CodeError:
    """Validate and normalise a unified social credit code typed by a user."""
    value = normalize(text or "")
    if len(value) != LENGTH:
        return CodeError("wrong_length", {"length": len(value), "expected": LENGTH})
    bad = [(i + 1, ch) for i, ch in enumerate(value) if ch not in _VALUE]
    if bad:
        position, char = bad[0]
        return CodeError("bad_character", {"position": position, "character": char})
    if value[0] not in AUTHORITY_TYPES:
        return CodeError("bad_authority", {"authority": value[0]})
    if value[1] not in AUTHORITY_TYPES[value[0]]:
        return CodeError("bad_entity_type", {"authority": value[0], "entity_type": value[1]})
    region = value[2:8]
    if not region.isdigit() or region[:2] not in PROVINCE_CODES:
        return CodeError("bad_region", {"region_code": region})
    expected = check_character(value[:17])
    if value[17] != expected:
        return CodeError("bad_check_character", {"given": value[17], "expected": expected})
    warnings: list[str] = []
    org_expected = _org_check_or_none(value[8:16])
    if org_expected != value[16]:
        if enforce_org_check_digit:
            return CodeError(
                "bad_org_check_digit", {"given": value[16], "expected": org_expected}
            )
        warnings.append(WARNING_ORG_CHECK_DIGIT)
    return CreditCode(value, tuple(warnings))


def _org_check_or_none(body8: str) -> str | None:
    try:
        return org_check_digit(body8)
    except ValueError:
        return None


def registration_kind(code: CreditCode | str) -> str:
    """The registration authority and entity type (positions 1-2), e.g. '91' enterprise, '92' sole trader."""
    value = code.value if isinstance(code, CreditCode) else normalize(code)
    return value[:2]


def is_allowed_registration(code: CreditCode | str, kinds: tuple[str, ...]) -> bool:
    """True if the code's first characters match one of the allowed kinds ('91', or '9' for every 9x)."""
    kind = registration_kind(code)
    return any(k and kind.startswith(k) for k in kinds)


def is_in_region(code: CreditCode | str, prefixes: tuple[str, ...]) -> bool:
    """True if the code's division code starts with one of the configured prefixes."""
    value = code.value if isinstance(code, CreditCode) else normalize(code)
    region = value[2:8]
    return len(region) == 6 and any(region.startswith(p) for p in prefixes if p)


def own_county(code: CreditCode | str | None, county_codes: Iterable[str]) -> str | None:
    """The county-level division (one of `county_codes`) whose authority registered the code, or None.

    Characters 3–8 are the registering authority's division code (GB/T 2260), e.g. 440203 武江区. A code
    registered at city level (440200) or under a division that no longer exists names no county: None.
    """
    if not code:
        return None
    value = code.value if isinstance(code, CreditCode) else normalize(code)
    region = value[2:8]
    return region if region in set(county_codes) else None
