"""A content-addressed document store for uploaded application materials.

Files live under ``root/ab/cd/<sha256>``: the stored name is always the SHA-256 of the
content, never anything derived from the uploader's file name (which is only returned so
the caller can keep it in the database). Identical content is stored once. An upload is
streamed into ``root/tmp/`` with the size cap enforced while reading, its kind is sniffed
from magic bytes, ZIP-based kinds are checked for bombs, and only then is it renamed into
place; a refused or failed upload leaves nothing behind. Reads verify the SHA-256.

Decisions:

* An upload whose name has no extension (e.g. a chat image) is accepted on its sniffed
  kind; a name with an extension must use one of the sniffed kind's extensions.
* A ZIP-based Office file carrying a VBA project (a renamed .docm/.xlsm) is refused as
  ``type_not_allowed`` with reason ``macros``.
* If a file with the same hash exists but fails verification, the new upload replaces it.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from workflows.documents.filetypes import (
    KINDS,
    ZIP_BASED,
    AllowedTypes,
    DocumentRejected,
    ZipLimits,
    check_zip,
    has_macros,
    sniff,
)

if TYPE_CHECKING:
    from workflows.core.settings import StorageSettings

__all__ = [
    "AllowedTypes",
    "DocumentCorrupted",
    "DocumentMissing",
    "DocumentRejected",
    "DocumentStore",
    "StoredDocument",
    "ZipLimits",
    "display_name",
]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 64 * 1024


class DocumentCorrupted(Exception):
    """A stored file no longer matches its recorded SHA-256 or size."""

    def __init__(self, sha256: str, reason: str) -> None:
        super().__init__(sha256, reason)
        self.sha256 = sha256
        self.reason = reason


class DocumentMissing(LookupError):
    """No stored file exists for the given SHA-256."""


@dataclass(frozen=True)
class StoredDocument:
    """What the database records about a stored upload."""

    sha256: str
    size: int
    kind: str
    mime: str
    extension: str
    original_name: str
    is_new: bool = True  # False when identical content was already stored

    def display_name(self, *, max_length: int = 80) -> str:
        """The sanitised name to show and to offer on download."""
        return display_name(self.original_name, self.kind, max_length=max_length)


class DocumentStore:
    """Stores uploads by SHA-256 under ``root``; see the module docstring."""

    def __init__(self, root: Path, *, zip_limits: ZipLimits) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.zip_limits = zip_limits
        self.tmp.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_settings(cls, storage: "StorageSettings") -> "DocumentStore":
        """The one store of a deployment: `[storage] dir` with the configured ZIP-bomb limits."""
        limits = ZipLimits(max_total_uncompressed=storage.zip_max_total_mb * 1024 * 1024,
                           max_ratio=storage.zip_max_ratio, ratio_min_bytes=storage.zip_ratio_min_kb * 1024,
                           max_members=storage.zip_max_members, max_depth=storage.zip_max_depth)
        return cls(Path(storage.dir), zip_limits=limits)

    def path_for(self, sha256: str) -> Path:
        """Where the content with this hash is (or would be) stored."""
        if not _SHA256.match(sha256):
            raise ValueError("not a lower-case hex SHA-256")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def store(
        self, stream: BinaryIO, *, original_name: str, allowed: AllowedTypes, max_bytes: int
    ) -> StoredDocument:
        """Check and store an upload, or raise DocumentRejected with a typed code."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        tmp_path = self.tmp / f"{uuid.uuid4().hex}.part"
        try:
            digest, size = _stream_to(stream, tmp_path, max_bytes)
            kind = self._check(tmp_path, original_name, allowed)
            is_new = self._move_into_place(tmp_path, digest, size)
        finally:
            tmp_path.unlink(missing_ok=True)
        info = KINDS[kind]
        return StoredDocument(digest, size, kind, info.mime, info.extension, original_name, is_new)

    def _check(self, path: Path, original_name: str, allowed: AllowedTypes) -> str:
        kind = sniff(path, zip_limits=self.zip_limits)
        declared = _extension_of(original_name)
        if kind is None:
            raise DocumentRejected("unknown_type", {"declared": declared})
        if kind not in allowed:
            raise DocumentRejected(
                "type_not_allowed",
                {"declared": declared, "detected": kind, "allowed": sorted(allowed.kinds)},
            )
        if declared and declared not in KINDS[kind].extensions:
            raise DocumentRejected(
                "type_not_allowed",
                {"declared": declared, "detected": kind, "reason": "extension_mismatch"},
            )
        if kind in ZIP_BASED:
            check_zip(path, self.zip_limits, tmp_dir=self.tmp)
            if kind != "zip" and has_macros(path):
                raise DocumentRejected(
                    "type_not_allowed", {"detected": kind, "reason": "macros"}
                )
        return kind

    def _move_into_place(self, tmp_path: Path, digest: str, size: int) -> bool:
        target = self.path_for(digest)
        if target.exists():
            try:
                self._verify(target, digest, size)
                return False
            except DocumentCorrupted:
                pass  # replace the damaged copy with this good one
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_path, target)
        return True

    def open(self, sha256: str, expected_size: int) -> BinaryIO:
        """Open a stored file for reading after verifying its size and SHA-256."""
        path = self.path_for(sha256)
        try:
            fh = path.open("rb")
        except FileNotFoundError as exc:
            raise DocumentMissing(sha256) from exc
        try:
            _verify_handle(fh, sha256, expected_size)
            fh.seek(0)
        except BaseException:
            fh.close()
            raise
        return fh

    def read_bytes(self, sha256: str, expected_size: int) -> bytes:
        """Return a stored file's verified content."""
        with self.open(sha256, expected_size) as fh:
            return fh.read()

    def exists(self, sha256: str) -> bool:
        """True if content with this hash is stored (not verified)."""
        return self.path_for(sha256).is_file()

    def sweep_tmp(self, *, now: float, older_than_seconds: float) -> int:
        """Remove temp files left by crashed uploads; returns how many were removed."""
        removed = 0
        for path in self.tmp.glob("*.part"):
            try:
                if now - path.stat().st_mtime > older_than_seconds:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def _verify(self, path: Path, sha256: str, size: int) -> None:
        with path.open("rb") as fh:
            _verify_handle(fh, sha256, size)


def _stream_to(stream: BinaryIO, path: Path, max_bytes: int) -> tuple[str, int]:
    """Copy at most max_bytes + 1 bytes into ``path``; raise too_large or empty."""
    hasher = hashlib.sha256()
    size = 0
    with path.open("xb") as out:
        while True:
            chunk = stream.read(min(_CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise DocumentRejected("too_large", {"max_bytes": max_bytes})
            hasher.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size == 0:
        raise DocumentRejected("empty")
    return hasher.hexdigest(), size


def _verify_handle(fh: BinaryIO, sha256: str, expected_size: int) -> None:
    hasher = hashlib.sha256()
    size = 0
    while chunk := fh.read(_CHUNK):
        size += len(chunk)
        hasher.update(chunk)
    if size != expected_size:
        raise DocumentCorrupted(sha256, "size_mismatch")
    if hasher.hexdigest() != sha256:
        raise DocumentCorrupted(sha256, "hash_mismatch")


def _extension_of(name: str) -> str:
    base = _basename(name)
    stem, dot, ext = base.rpartition(".")
    return ext.strip().lower() if dot and stem.strip(". ") else ""


def _basename(name: str) -> str:
    return PurePosixPath(unicodedata.normalize("NFC", name or "").replace("\\", "/")).name


def display_name(original_name: str, kind: str, *, max_length: int = 80) -> str:
    """Sanitise an uploaded file's name for display; the extension always matches ``kind``."""
    info = KINDS[kind]
    cleaned = "".join(
        ch
        for ch in unicodedata.normalize("NFC", original_name or "")
        # Cc: control characters; Cf: format characters such as the RTL override.
        if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    )
    base = _basename(cleaned).strip().strip(". ").strip()
    stem, dot, ext = base.rpartition(".")
    if dot and ext.strip().lower() in info.extensions and stem.strip(". "):
        stem, ext = stem.rstrip(". "), ext.strip()
    else:
        stem, ext = base, info.extension
    stem = re.sub(r"\s+", " ", stem) or "document"
    stem = stem[: max(1, max_length - len(ext) - 1)].rstrip(". ") or "document"
    return f"{stem}.{ext}"
