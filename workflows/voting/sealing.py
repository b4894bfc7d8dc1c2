"""Sealed ballot papers: how a round keeps its papers secret while open, and opens them once at its close.

While a round is open, each member's paper is one `SealedPaper` row: the chosen application ids,
padded to a fixed length and encrypted (AES-GCM) under the round's key FILE, filed under
HMAC(key, "round:member").  The database alone cannot tell whose paper a row is, nor what it says;
with the key a member can change the paper (where the rules allow) and cannot hold two.

At the round's final close `unseal_round` decrypts every paper, writes them as plaintext `Choice`
rows in ONE transaction, in random order and with random paper ids, deletes the sealed rows and asks
for the key file to be shredded once that transaction has committed.  Every trace a cast left in the
database (the sealed row's transaction id and physical place, its dead tuples, the "已投票" card update)
is ciphertext under a key that no longer exists.  docs/voting.md, "投票保密", has the threat model.
"""
from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.orm import Session

from workflows.core import sealed
from workflows.core.settings import Settings
from workflows.voting.models import Ballot, Choice, SealedPaper

PREFIX = "ballot-"
PAD = 256            # sealed papers are padded to a multiple of this …
# … and to one size per round: the longest paper the round allows (`paper_size`), so no paper's
# length depends on what was chosen.
_rng = secrets.SystemRandom()


def key_name(ballot_id: int) -> str:
    """The name of a round's key file."""
    return f"{PREFIX}{ballot_id}"


def create_round_key(settings: Settings, ballot_id: int) -> None:
    """A fresh key for a new round (written when the round opens)."""
    sealed.create_key(settings, key_name(ballot_id))


def has_round_key(settings: Settings, ballot_id: int) -> bool:
    """Whether the round's key file is still there."""
    return sealed.has_key(settings, key_name(ballot_id))


def round_key(settings: Settings, ballot_id: int) -> bytes:
    """The round's key; sealed.KeyUnavailable if it is gone."""
    return sealed.load_key(settings, key_name(ballot_id))


def slot(key: bytes, ballot_id: int, member: str) -> str:
    """Where a member's paper is filed: meaningless without the round's key."""
    return sealed.mac(key, "vote-slot", f"{ballot_id}:{member}")


def _aad(ballot_id: int, slot_: str) -> str:
    # A sealed paper opens only in its own round and slot: rows cannot be swapped or copied.
    return f"ballot_seal:{ballot_id}:{slot_}"


def paper_size(candidate_ids: Sequence[int], confirm: bool) -> int:
    """The padded length of every paper of a round: room for the longest paper it allows.

    Every candidate ticked (and, in a confirmation round, each one as 不同意, the longer negative
    number) bounds any valid paper; rounded up to a multiple of PAD.
    """
    longest = json.dumps(sorted(-abs(a) if confirm else a for a in candidate_ids)).encode()
    return -(-len(longest) // PAD) * PAD


def seal_paper(key: bytes, ballot_id: int, slot_: str, application_ids: Sequence[int], size: int = PAD) -> bytes:
    """Encrypt a paper (its application ids, sorted), padded to `size` bytes (the round's `paper_size`)."""
    text = json.dumps(sorted(application_ids)).encode()
    padded = text.ljust(max(size, -(-len(text) // PAD) * PAD), b" ")
    return sealed.encrypt(key, padded, _aad(ballot_id, slot_))


def open_paper(key: bytes, ballot_id: int, slot_: str, blob: bytes) -> list[int]:
    """Decrypt a sealed paper; sealed.SealBroken if it was tampered with or moved."""
    return [int(a) for a in json.loads(sealed.decrypt(key, blob, _aad(ballot_id, slot_)))]


def find(session: Session, ballot_id: int, slot_: str, *, lock: bool = False) -> SealedPaper | None:
    """A member's sealed paper by its slot."""
    q = select(SealedPaper).where(SealedPaper.ballot_id == ballot_id, SealedPaper.slot == slot_)
    return session.scalar(q.with_for_update() if lock else q)


def has_sealed(session: Session, ballot_id: int) -> bool:
    """Whether a round still has sealed papers."""
    return session.scalar(select(SealedPaper.slot).where(SealedPaper.ballot_id == ballot_id).limit(1)) is not None


def all_papers(session: Session, settings: Settings | None, ballot_id: int) -> list[list[int]]:
    """Every paper of a round as application ids: the plaintext ones and, while open, the sealed ones opened."""
    grouped: dict[str, list[int]] = defaultdict(list)
    for paper, app_id in session.execute(select(Choice.paper_id, Choice.application_id)
                                         .where(Choice.ballot_id == ballot_id)):
        grouped[paper].append(app_id)
    out = [apps for _, apps in sorted(grouped.items())]
    rows = list(session.execute(select(SealedPaper.slot, SealedPaper.sealed).where(SealedPaper.ballot_id == ballot_id)
                                .order_by(SealedPaper.slot)))
    if rows:
        if settings is None:
            raise ValueError(f"round {ballot_id} has sealed papers: settings are needed to open them")
        key = round_key(settings, ballot_id)
        out += [open_paper(key, ballot_id, s, blob) for s, blob in rows]
    return out


def unseal_round(session: Session, settings: Settings, ballot: Ballot) -> int:
    """Write every paper of the round as plaintext, shuffled, in this transaction; shred the key after commit.

    Plaintext papers already there (a round open during an upgrade) are rewritten with the rest, so
    all of a round's papers share one transaction and a random physical order.  Returns the count.
    """
    papers = all_papers(session, settings, ballot.id)
    _rng.shuffle(papers)
    session.execute(delete(Choice).where(Choice.ballot_id == ballot.id))
    session.execute(delete(SealedPaper).where(SealedPaper.ballot_id == ballot.id))
    session.flush()
    for apps in papers:
        paper_id = secrets.token_hex(16)
        session.add_all(Choice(paper_id=paper_id, application_id=a, ballot_id=ballot.id) for a in apps)
    session.flush()
    forget_key_after_commit(session, settings, ballot.id)
    return len(papers)


def forget_key_after_commit(session: Session, settings: Settings, ballot_id: int) -> None:
    """Ask for the round's key file to be shredded once the committed state shows it is spent."""
    if has_round_key(settings, ballot_id):
        sealed.shred_after_commit(session, settings, key_name(ballot_id), lambda conn: spent(conn, ballot_id))


def spent(conn: Connection, ballot_id: int) -> bool:
    """Committed state: the round will never need its key again (closed for good, or superseded, no sealed papers)."""
    row = conn.execute(select(Ballot.status, Ballot.edition).where(Ballot.id == ballot_id)).first()
    if row is None:
        return False  # not committed yet (or rolled back): keep the key
    status, edition = row
    if conn.scalar(select(func.count()).select_from(SealedPaper).where(SealedPaper.ballot_id == ballot_id)):
        return False
    if status == "closed":
        return True
    # A round without quorum can be reopened (vote extend) until a newer vote is opened in its edition.
    newer = conn.scalar(select(Ballot.id).where(Ballot.edition == edition, Ballot.id > ballot_id).limit(1))
    return status == "no_quorum" and newer is not None


def sweep_keys(session: Session, settings: Settings) -> list[int]:
    """Ask for every spent round's key to be shredded after commit (a crash may have left one); ids asked."""
    asked = []
    for name in sealed.key_names(settings):
        number = name[len(PREFIX):] if name.startswith(PREFIX) else ""
        if number.isdigit():
            ballot = session.get(Ballot, int(number))
            if ballot is not None and ballot.status != "open":
                forget_key_after_commit(session, settings, ballot.id)
                asked.append(ballot.id)
    return asked
