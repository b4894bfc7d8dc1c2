"""The pure part of the append-only, hash-chained audit log (DOMAIN: every decision traceable).

Each entry stores ``prev_hash`` (the previous entry's ``hash``, or ``GENESIS`` for the first) and
``hash = entry_hash(prev_hash, fields)``. Changing, deleting or re-ordering any stored entry then
breaks a hash or a link that `verify_chain` reports.

Hash input, exactly: SHA-256 (lowercase hex) of the UTF-8 bytes of the canonical JSON of the object
``{"fields": fields, "prev_hash": prev_hash}``, where canonical JSON is ``json.dumps(value,
sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)`` after normalising:

- ``None``, ``bool``, ``int``, ``str`` as themselves (``str``/``int`` subclasses such as StrEnum by
  their plain value); ``float`` by Python's shortest round-trip repr, NaN and infinities refused;
- lists and tuples as arrays; mappings as objects whose keys must be ``str``;
- aware ``datetime`` as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fraction digits); naive
  datetimes are refused; ``date`` as ``YYYY-MM-DD``;
- anything else is refused with TypeError.

Strings are hashed as given (no Unicode normalisation). Because datetimes become strings, fields
read back from a JSON column hash the same as the fields originally written.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

GENESIS = "0" * 64

_HASH = re.compile(r"[0-9a-f]{64}")


def _normalise(value: Any) -> Any:
    """Turn a JSON-able value into plain JSON types, following the module's canonical rules."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and infinities have no canonical JSON form")
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise TypeError("naive datetime in audit fields; pass an aware datetime")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"audit field keys must be str, got {type(key).__name__}")
            out[str.__str__(key)] = _normalise(item)
        return out
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def canonical_json(value: Any) -> str:
    """The canonical JSON text of a value, as hashed by `entry_hash`."""
    return json.dumps(
        _normalise(value),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The SHA-256 hex digest chaining `fields` to the entry whose hash is `prev_hash`."""
    if not isinstance(prev_hash, str) or not _HASH.fullmatch(prev_hash):
        raise ValueError("prev_hash must be 64 lowercase hex characters")
    document = canonical_json({"fields": fields, "prev_hash": prev_hash})
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class ChainProblem(StrEnum):
    """What kind of damage `verify_chain` found first."""

    MODIFIED = "modified"
    DELETED_OR_REORDERED = "deleted_or_reordered"
    BROKEN_LINK = "broken_link"


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking a chain: ok, or the first bad entry and what is wrong with it."""

    ok: bool
    first_bad_id: int | None
    problem: ChainProblem | None
    checked: int  # entries accepted before the first problem (all of them when ok)
    head: str  # hash of the last accepted entry (start_hash if none)


def verify_chain(
    entries: Iterable[tuple[int, str, str, Mapping[str, Any]]],
    *,
    start_hash: str = GENESIS,
    first_id: int | None = 1,
    contiguous_ids: bool = True,
    expected_head: str | None = None,
) -> ChainReport:
    """Check entries (id, prev_hash, hash, fields), given in id order, and report the first break.

    - ``modified``: an entry's stored hash is not the hash of its prev_hash and fields.
    - ``deleted_or_reordered``: ids go backwards or (with `contiguous_ids`) skip, an entry links
      to another entry of the log than its predecessor, or the last hash is not `expected_head`.
    - ``broken_link``: an entry links to a hash found nowhere in the log (its predecessor was
      rewritten together with its hash, or entries before it were deleted).

    `start_hash` and `first_id` let a caller check a slice that follows a trusted checkpoint;
    `first_id=None` accepts any first id. Pass `contiguous_ids=False` when ids come from a
    database sequence, which may skip numbers on rollback. A deleted *last* entry is only
    detectable with `expected_head` (a head hash kept elsewhere).
    """
    rows = list(entries)
    known = {row[2] for row in rows}
    expected_prev, expected_id, previous_id = start_hash, first_id, None
    checked = 0

    def bad(entry_id: int | None, problem: ChainProblem) -> ChainReport:
        return ChainReport(False, entry_id, problem, checked, expected_prev)

    for entry_id, prev_hash, stored_hash, fields in rows:
        if previous_id is not None and entry_id <= previous_id:
            return bad(entry_id, ChainProblem.DELETED_OR_REORDERED)
        gap = contiguous_ids and expected_id is not None and entry_id != expected_id
        if not _HASH.fullmatch(prev_hash) or entry_hash(prev_hash, fields) != stored_hash:
            return bad(entry_id, ChainProblem.MODIFIED)
        if prev_hash != expected_prev:
            linked_elsewhere = gap or prev_hash in known
            return bad(
                entry_id,
                ChainProblem.DELETED_OR_REORDERED if linked_elsewhere else ChainProblem.BROKEN_LINK,
            )
        if gap:
            return bad(entry_id, ChainProblem.DELETED_OR_REORDERED)
        expected_prev, expected_id, previous_id = stored_hash, entry_id + 1, entry_id
        checked += 1
    if expected_head is not None and expected_prev != expected_head:
        return bad(expected_id, ChainProblem.DELETED_OR_REORDERED)
    return ChainReport(True, None, None, checked, expected_prev)
