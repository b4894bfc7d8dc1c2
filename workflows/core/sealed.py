"""Sealed data: AES-GCM under a key kept in a FILE outside the database, shredded when its purpose ends.

Whoever reads the database (SQL, a dump, a backup, the WAL, dead tuples on disk) sees only ciphertext;
once the key file is shredded, that ciphertext is noise for good.  Used by the committee vote: a
round's papers and "已投票" card updates are sealed under the round's key (docs/voting.md, 投票保密).

A key is shredded only after the transaction that made it unnecessary has COMMITTED, and only if a
fresh connection confirms that committed state (`shred_after_commit`); a rolled-back close never
destroys the key its sealed papers still need.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from workflows.core.settings import Settings

KEY_BYTES = 32
NONCE_BYTES = 12
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_PENDING = "sealed.shred_after_commit"
log = logging.getLogger(__name__)


class KeyUnavailable(RuntimeError):
    """The key file is missing or unreadable (shredded after close, or the data directory was lost)."""


class SealBroken(RuntimeError):
    """A sealed value does not open under its key (tampered, swapped or from another key)."""


def keys_dir(settings: Settings) -> Path:
    """Where key files live: `storage.keys_dir`, else "keys" beside the upload directory."""
    configured = settings.storage.keys_dir
    return Path(configured) if configured else Path(settings.storage.dir).parent / "keys"


def key_path(settings: Settings, name: str) -> Path:
    """The file of one named key."""
    if not _NAME.match(name):
        raise ValueError(f"bad key name {name!r}")
    return keys_dir(settings) / f"{name}.key"


def create_key(settings: Settings, name: str) -> None:
    """Write a fresh random key (mode 0600, atomically; an older file of the same name is replaced)."""
    directory = keys_dir(settings)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = directory / f".{name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, key_path(settings, name))


def load_key(settings: Settings, name: str) -> bytes:
    """The key's bytes; KeyUnavailable if the file is gone or damaged."""
    try:
        key = key_path(settings, name).read_bytes()
    except OSError as exc:
        raise KeyUnavailable(f"key {name} unavailable ({type(exc).__name__})") from None
    if len(key) != KEY_BYTES:
        raise KeyUnavailable(f"key {name} damaged")
    return key


def has_key(settings: Settings, name: str) -> bool:
    """Whether the key file exists."""
    return key_path(settings, name).is_file()


def key_names(settings: Settings) -> list[str]:
    """The names of the key files present."""
    directory = keys_dir(settings)
    if not directory.is_dir():
        return []
    return sorted(p.name[:-4] for p in directory.glob("*.key") if _NAME.match(p.name[:-4]))


def subkey(key: bytes, purpose: str) -> bytes:
    """A purpose-bound key derived from a key file's key (never use the file's key directly)."""
    return hmac.new(key, f"sealed:{purpose}".encode(), hashlib.sha256).digest()


def mac(key: bytes, purpose: str, text: str) -> str:
    """A keyed digest of `text` (hex): deterministic, meaningless without the key."""
    return hmac.new(subkey(key, purpose), text.encode(), hashlib.sha256).hexdigest()


def encrypt(key: bytes, plaintext: bytes, aad: str) -> bytes:
    """nonce ‖ AES-256-GCM(plaintext), bound to `aad` (where the value belongs)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(subkey(key, "aead")).encrypt(nonce, plaintext, aad.encode())


def decrypt(key: bytes, blob: bytes, aad: str) -> bytes:
    """Open what `encrypt` sealed under the same key and aad; SealBroken otherwise."""
    try:
        return AESGCM(subkey(key, "aead")).decrypt(bytes(blob[:NONCE_BYTES]), bytes(blob[NONCE_BYTES:]), aad.encode())
    except (InvalidTag, ValueError):
        raise SealBroken(f"sealed value for {aad!r} does not open") from None


def encrypt_text(key: bytes, text: str, aad: str) -> str:
    """`encrypt` for JSON columns: base64 text."""
    return base64.b64encode(encrypt(key, text.encode(), aad)).decode()


def decrypt_text(key: bytes, box: str, aad: str) -> str:
    """Open what `encrypt_text` sealed."""
    return decrypt(key, base64.b64decode(box), aad).decode()


def shred(path: Path) -> bool:
    """Overwrite a key file with random bytes, flush it to disk, and unlink it; False if it was not there."""
    try:
        size = path.stat().st_size
        with open(path, "r+b", buffering=0) as f:
            f.write(secrets.token_bytes(max(size, KEY_BYTES)))
            os.fsync(f.fileno())
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def shred_after_commit(session: Session, settings: Settings, name: str,
                       spent: Callable[[Connection], bool]) -> None:
    """Shred key `name` once this transaction has committed and `spent(conn)` says so on a fresh connection.

    A rollback forgets the request (the key is kept; the next sweep will ask again).
    """
    pending: dict[str, tuple[Settings, Callable[[Connection], bool]]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = {}
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
        event.listen(session, "after_soft_rollback", _after_soft_rollback)
    pending[name] = (settings, spent)


def _after_commit(session: Session) -> None:
    # Also called when a SAVEPOINT is released: `spent` reads committed state on another connection,
    # so an outer transaction that has not committed yet reads as "not spent" and nothing is shredded.
    pending = session.info.get(_PENDING) or {}
    todo = list(pending.items())
    pending.clear()
    if not todo:
        return
    # The transaction has committed: a failure here must not be reported as the caller's failure.
    # The key then stays until the next sweep asks again (`workflows.voting.sealing.sweep_keys`).
    try:
        with session.get_bind().connect() as conn:
            for name, (settings, spent) in todo:
                if spent(conn):
                    shred(key_path(settings, name))
    except Exception as exc:  # noqa: BLE001
        log.warning("shredding key(s) %s deferred to the next sweep: %s", [n for n, _ in todo], type(exc).__name__)


def _after_rollback(session: Session) -> None:
    (session.info.get(_PENDING) or {}).clear()


def _after_soft_rollback(session: Session, _previous: object) -> None:
    (session.info.get(_PENDING) or {}).clear()
