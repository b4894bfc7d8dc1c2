"""Completeness of an application's materials against the configured material list.

Pure rules: the caller passes the configured items and what it has received per item (in
the order received) and gets a checklist back. The latest receipt for an item decides its
state: ``received``, or ``rejected`` with its reason (a refused upload, or a document the
secretariat rejected in formal review); an item without receipts is ``missing``. A caller
that does not want a refused re-upload to cancel an accepted document simply does not
record that refusal as a receipt. Items provided by the recommending unit (the
推荐意见 slot) are listed but never required from the applicant: ``complete`` and
``missing_required`` speak for the applicant, ``awaiting_recommender`` for the unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

from workflows.documents.filetypes import AllowedTypes
from workflows.core.settings import Settings

Provider = Literal["applicant", "recommender"]
ItemState = Literal["received", "missing", "rejected"]
PROVIDERS: tuple[str, ...] = ("applicant", "recommender")


@dataclass(frozen=True)
class MaterialItem:
    """One configured material slot of an application."""

    key: str
    name: str
    required: bool
    kinds: tuple[str, ...]
    max_bytes: int
    provided_by: Provider = "applicant"

    @property
    def allowed(self) -> AllowedTypes:
        """The document kinds this slot accepts, for DocumentStore.store."""
        return AllowedTypes.from_config(self.kinds)


@dataclass(frozen=True)
class Receipt:
    """One upload attempt for an item, as recorded by the caller."""

    item_key: str
    status: Literal["received", "rejected"]
    reason: str | None = None  # a DocumentRejected code, or a reviewer's reason


@dataclass(frozen=True)
class ChecklistEntry:
    """The state of one material item."""

    key: str
    name: str
    required: bool
    provided_by: Provider
    state: ItemState
    reason: str | None = None  # why the latest upload was rejected


@dataclass(frozen=True)
class Checklist:
    """All items with their states, plus what the applicant still owes."""

    entries: tuple[ChecklistEntry, ...]
    missing_required: list[str]  # applicant items, required, not received
    awaiting_recommender: list[str]  # recommender items, required, not received
    unexpected: list[str]  # receipts for keys that are not configured items

    @property
    def complete(self) -> bool:
        """True when the applicant has provided every required item."""
        return not self.missing_required

    def entry(self, key: str) -> ChecklistEntry:
        """The entry for one item key."""
        for e in self.entries:
            if e.key == key:
                return e
        raise KeyError(key)


def material_items(settings: Settings) -> tuple[MaterialItem, ...]:
    """The configured material list (already validated by the settings) as completeness items."""
    return tuple(MaterialItem(m.key, m.name, m.required, tuple(m.kinds), m.max_bytes, m.provided_by)
                 for m in settings.award.materials)


def checklist(items: Sequence[MaterialItem], receipts: Iterable[Receipt]) -> Checklist:
    """Compute each item's state and what is still missing (receipts in the order received)."""
    by_key: dict[str, list[Receipt]] = {item.key: [] for item in items}
    unexpected: list[str] = []
    for receipt in receipts:
        if receipt.item_key in by_key:
            by_key[receipt.item_key].append(receipt)
        elif receipt.item_key not in unexpected:
            unexpected.append(receipt.item_key)
    entries: list[ChecklistEntry] = []
    missing: list[str] = []
    awaiting: list[str] = []
    for item in items:
        state, reason = _state(by_key[item.key])
        entries.append(
            ChecklistEntry(item.key, item.name, item.required, item.provided_by, state, reason)
        )
        if item.required and state != "received":
            (missing if item.provided_by == "applicant" else awaiting).append(item.key)
    return Checklist(tuple(entries), missing, awaiting, unexpected)


def _state(receipts: list[Receipt]) -> tuple[ItemState, str | None]:
    if not receipts:
        return "missing", None
    latest = receipts[-1]
    if latest.status == "received":
        return "received", None
    return "rejected", latest.reason
