"""Hash-chained audit log: canonical hashing; modified, deleted and re-ordered entries found."""

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from workflows.core.auditchain import GENESIS, ChainProblem, canonical_json, entry_hash, verify_chain

Entry = tuple[int, str, str, dict]


def build_chain(field_list: list[dict], first_id: int = 1, prev: str = GENESIS) -> list[Entry]:
    """Append entries the way the store will (test helper)."""
    entries: list[Entry] = []
    for offset, fields in enumerate(field_list):
        digest = entry_hash(prev, fields)
        entries.append((first_id + offset, prev, digest, fields))
        prev = digest
    return entries


def sample_chain() -> list[Entry]:
    """Five audit entries like the voting workflow will write (test helper)."""
    at = datetime(2019, 1, 30, 2, 0, tzinfo=UTC)
    return build_chain(
        [
            {"actor": "secretariat01", "action": "vote_open", "at": at, "round": 1},
            {"actor": "weiyuan01", "action": "ballot_cast", "at": at + timedelta(minutes=5)},
            {"actor": "weiyuan02", "action": "ballot_cast", "at": at + timedelta(minutes=9)},
            {"actor": "secretariat01", "action": "vote_close", "at": at + timedelta(hours=1)},
            {"actor": "secretariat01", "action": "tally", "winners": ["甲公司", "乙公司", "丙公司"]},
        ]
    )


# --- hashing --------------------------------------------------------------------------


def test_hash_is_sha256_of_the_documented_canonical_json():
    beijing = timezone(timedelta(hours=8))
    fields = {"b": 1, "a": "韶关", "at": datetime(2019, 2, 1, 10, 0, tzinfo=beijing)}
    expected_text = (
        '{"fields":{"a":"韶关","at":"2019-02-01T02:00:00.000000Z","b":1},'
        f'"prev_hash":"{GENESIS}"}}'
    )
    assert canonical_json({"fields": fields, "prev_hash": GENESIS}) == expected_text
    assert entry_hash(GENESIS, fields) == hashlib.sha256(expected_text.encode("utf-8")).hexdigest()


def test_hash_is_stable_through_a_json_column_round_trip():
    fields = {
        "at": datetime(2019, 2, 1, 2, 0, tzinfo=UTC),
        "scores": (450, 512.5),
        "nested": {"z": None, "y": True},
    }
    stored = json.loads(canonical_json(fields))
    assert entry_hash(GENESIS, stored) == entry_hash(GENESIS, fields)


def test_key_order_does_not_change_the_hash_but_values_do():
    assert entry_hash(GENESIS, {"a": 1, "b": 2}) == entry_hash(GENESIS, {"b": 2, "a": 1})
    assert entry_hash(GENESIS, {"a": 1}) != entry_hash(GENESIS, {"a": 2})
    assert entry_hash(GENESIS, {"a": 1}) != entry_hash("f" * 64, {"a": 1})


@pytest.mark.parametrize(
    "fields",
    [
        {"at": datetime(2019, 2, 1, 10, 0)},  # naive datetime
        {1: "non-string key"},
        {"x": {1, 2}},
        {"x": float("nan")},
    ],
)
def test_values_without_a_canonical_form_are_refused(fields):
    with pytest.raises((TypeError, ValueError)):
        entry_hash(GENESIS, fields)


def test_malformed_prev_hash_is_refused():
    with pytest.raises(ValueError):
        entry_hash("abc", {})
    with pytest.raises(ValueError):
        entry_hash("A" * 64, {})


# --- verify_chain ---------------------------------------------------------------------


def test_intact_chain_verifies():
    entries = sample_chain()
    report = verify_chain(entries, expected_head=entries[-1][2])
    assert report.ok and report.first_bad_id is None and report.problem is None
    assert report.checked == 5 and report.head == entries[-1][2]


def test_empty_chain_is_intact():
    assert verify_chain([]).ok
    assert verify_chain([], expected_head=GENESIS).ok


def test_modified_entry_is_found():
    entries = sample_chain()
    entry_id, prev, digest, fields = entries[2]
    entries[2] = (entry_id, prev, digest, {**fields, "actor": "someone_else"})
    report = verify_chain(entries)
    assert (report.ok, report.first_bad_id, report.problem) == (False, 3, ChainProblem.MODIFIED)
    assert report.checked == 2


def test_modified_entry_with_recomputed_hash_breaks_the_next_link():
    entries = sample_chain()
    entry_id, prev, _, fields = entries[2]
    forged = {**fields, "actor": "someone_else"}
    entries[2] = (entry_id, prev, entry_hash(prev, forged), forged)
    report = verify_chain(entries)
    assert (report.first_bad_id, report.problem) == (4, ChainProblem.BROKEN_LINK)


def test_deleted_entry_is_found():
    entries = sample_chain()
    del entries[2]
    report = verify_chain(entries)
    assert (report.first_bad_id, report.problem) == (4, ChainProblem.DELETED_OR_REORDERED)


def test_deleted_first_entry_is_found():
    report = verify_chain(sample_chain()[1:])
    assert (report.first_bad_id, report.problem) == (2, ChainProblem.DELETED_OR_REORDERED)


def test_deleted_entry_with_ids_from_a_sequence_is_a_broken_link():
    entries = sample_chain()
    del entries[2]
    report = verify_chain(entries, contiguous_ids=False)
    assert (report.first_bad_id, report.problem) == (4, ChainProblem.BROKEN_LINK)


def test_sequence_gaps_are_accepted_when_links_hold():
    entries = [(eid * 10, prev, digest, fields) for eid, prev, digest, fields in sample_chain()]
    assert verify_chain(entries, contiguous_ids=False, first_id=None).ok
    assert not verify_chain(entries).ok


def test_deleted_last_entry_needs_the_expected_head():
    entries = sample_chain()
    head = entries[-1][2]
    truncated = entries[:-1]
    assert verify_chain(truncated).ok  # undetectable from the log alone
    report = verify_chain(truncated, expected_head=head)
    assert (report.first_bad_id, report.problem) == (5, ChainProblem.DELETED_OR_REORDERED)


def test_reordered_entries_are_found():
    entries = sample_chain()
    # Swap the contents of rows 2 and 3, keeping the ids in order.
    (id2, *rest2), (id3, *rest3) = entries[1], entries[2]
    entries[1], entries[2] = (id2, *rest3), (id3, *rest2)
    report = verify_chain(entries)
    assert (report.first_bad_id, report.problem) == (2, ChainProblem.DELETED_OR_REORDERED)


def test_entries_given_out_of_id_order_are_found():
    entries = sample_chain()
    entries[1], entries[2] = entries[2], entries[1]
    report = verify_chain(entries)
    assert (report.ok, report.problem) == (False, ChainProblem.DELETED_OR_REORDERED)


def test_a_slice_after_a_checkpoint_verifies():
    entries = sample_chain()
    checkpoint_id, _, checkpoint_hash, _ = entries[1]
    assert verify_chain(entries[2:], start_hash=checkpoint_hash, first_id=checkpoint_id + 1).ok


def test_entries_can_be_appended_after_the_last_one():
    entries = sample_chain()
    more = build_chain([{"action": "notice_open"}], first_id=6, prev=entries[-1][2])
    assert verify_chain(entries + more).ok
