"""File kinds detected from magic bytes, and ZIP-bomb inspection of ZIP-based files.

The declared file name never decides the kind: a file is what its first bytes (and, for
ZIP containers, its member names) say it is. Every limit comes in as a parameter.
"""

from __future__ import annotations

import re
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Mapping


@dataclass(frozen=True)
class Kind:
    """A file kind: its name in configuration, MIME type and accepted extensions."""

    name: str
    mime: str
    extensions: tuple[str, ...]  # lower-case, without dot; the first is canonical

    @property
    def extension(self) -> str:
        """The canonical extension (without dot)."""
        return self.extensions[0]


KINDS: Mapping[str, Kind] = {
    k.name: k
    for k in (
        Kind("pdf", "application/pdf", ("pdf",)),
        Kind("jpeg", "image/jpeg", ("jpg", "jpeg", "jpe")),
        Kind("png", "image/png", ("png",)),
        Kind("gif", "image/gif", ("gif",)),
        Kind("webp", "image/webp", ("webp",)),
        Kind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ("docx",),
        ),
        Kind(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ("xlsx",),
        ),
        Kind(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ("pptx",),
        ),
        Kind("ofd", "application/ofd", ("ofd",)),
        Kind("zip", "application/zip", ("zip",)),
        Kind("doc", "application/msword", ("doc",)),
        Kind("xls", "application/vnd.ms-excel", ("xls",)),
        Kind("ppt", "application/vnd.ms-powerpoint", ("ppt",)),
    )
}
ZIP_BASED = frozenset({"docx", "xlsx", "pptx", "ofd", "zip"})


class DocumentRejected(Exception):
    """An upload refused before storage; ``code`` selects the message template."""

    def __init__(self, code: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(code, dict(data or {}))
        self.code = code
        self.data: dict[str, Any] = dict(data or {})


@dataclass(frozen=True)
class AllowedTypes:
    """The set of kinds an upload slot accepts, built from configuration."""

    kinds: frozenset[str]

    @classmethod
    def from_config(cls, names: Iterable[str]) -> AllowedTypes:
        """Build from a configured list like ["pdf", "jpeg"]; unknown names raise ValueError."""
        wanted = [str(n).strip().lower() for n in names]
        unknown = [n for n in wanted if n not in KINDS]
        if unknown:
            raise ValueError(f"unknown document kind(s): {', '.join(unknown)}")
        if not wanted:
            raise ValueError("at least one document kind must be allowed")
        return cls(frozenset(wanted))

    def __contains__(self, kind: object) -> bool:
        return kind in self.kinds


@dataclass(frozen=True)
class ZipLimits:
    """Limits for ZIP-based uploads (all from configuration)."""

    max_total_uncompressed: int  # bytes, summed over all members at every nesting level
    max_ratio: float  # uncompressed / compressed, per member
    ratio_min_bytes: int  # members smaller than this are exempt from the ratio check
    max_members: int  # per archive
    max_depth: int  # 1 = no nested archives; 2 = one level (e.g. a chart's xlsx in a docx)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"
_PDF_EOF_WINDOW = 1024  # Acrobat accepts %%EOF within the last 1024 bytes
_OLE_STREAMS = {
    "WORDDOCUMENT": "doc",
    "WORKBOOK": "xls",
    "BOOK": "xls",
    "POWERPOINT DOCUMENT": "ppt",
}
_CHUNK = 64 * 1024


def sniff(path: Path, *, zip_limits: ZipLimits | None = None) -> str | None:
    """Return the kind of the file at ``path`` from its content, or None if unknown."""
    with path.open("rb") as fh:
        head = fh.read(16)
        if head.startswith(b"%PDF-"):
            _check_pdf_tail(fh)
            return "pdf"
        if head.startswith(b"\xff\xd8\xff"):
            return "jpeg"
        if head.startswith(_PNG_SIGNATURE):
            if head[8:16] != b"\x00\x00\x00\x0dIHDR":
                raise DocumentRejected("corrupt", {"reason": "png_header"})
            return "png"
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return "gif"
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return "webp"
        if head.startswith(_OLE_SIGNATURE):
            return _sniff_ole(fh)
    if head.startswith((_ZIP_LOCAL, _ZIP_EMPTY)):
        if zip_limits is not None:
            _check_member_count(path, zip_limits)
        return _sniff_zip(path)
    return None


def _check_pdf_tail(fh: IO[bytes]) -> None:
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(max(0, size - _PDF_EOF_WINDOW))
    if b"%%EOF" not in fh.read():
        raise DocumentRejected("corrupt", {"reason": "pdf_truncated"})


def _sniff_ole(fh: IO[bytes]) -> str | None:
    """Find a known stream name among the compound file's 128-byte directory entries."""
    fh.seek(512)  # directory sectors start after the header, 128-byte aligned
    while chunk := fh.read(_CHUNK):
        for off in range(0, len(chunk) - 127, 128):
            entry = chunk[off : off + 128]
            name_len = struct.unpack_from("<H", entry, 64)[0]
            if entry[66] not in (1, 2) or not 2 <= name_len <= 64 or name_len % 2:
                continue
            try:
                name = entry[: name_len - 2].decode("utf-16-le").upper()
            except UnicodeDecodeError:
                continue
            if name in _OLE_STREAMS:
                return _OLE_STREAMS[name]
            if name == "ENCRYPTEDPACKAGE":
                raise DocumentRejected("unknown_type", {"reason": "encrypted"})
    return None


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DocumentRejected("corrupt", {"reason": "bad_zip"}) from exc
    if "[Content_Types].xml" in names:
        for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(n.startswith(prefix) for n in names):
                return kind
    if "OFD.xml" in names:
        return "ofd"
    return "zip"


def has_macros(path: Path) -> bool:
    """True if an Office Open XML file carries a VBA project (a renamed .docm/.xlsm)."""
    with zipfile.ZipFile(path) as zf:
        return any(n.lower().endswith("vbaproject.bin") for n in zf.namelist())


# --- ZIP bombs -------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def _bomb(reason: str, **data: Any) -> DocumentRejected:
    return DocumentRejected("zip_bomb", {"reason": reason, **data})


@dataclass
class _Budget:
    remaining: int
    tmp_dir: Path | None = None


def declared_member_count(path: Path) -> int | None:
    """Read the member count from the end-of-central-directory record without parsing it all."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        tail_len = min(size, 22 + 0xFFFF)
        fh.seek(size - tail_len)
        tail = fh.read()
        at = tail.rfind(_ZIP_EMPTY)
        if at < 0 or len(tail) - at < 22:
            return None
        count = struct.unpack_from("<H", tail, at + 10)[0]
        locator = at - 20
        if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
            offset = struct.unpack_from("<Q", tail, locator + 8)[0]
            fh.seek(offset)
            record = fh.read(56)
            if len(record) == 56 and record[:4] == b"PK\x06\x06":
                count = struct.unpack_from("<Q", record, 32)[0]
        return count


def _check_member_count(path: Path, limits: ZipLimits) -> None:
    # Checked before zipfile parses the central directory into memory.
    count = declared_member_count(path)
    if count is not None and count > limits.max_members:
        raise _bomb("member_count", members=count, limit=limits.max_members)


def check_zip(path: Path, limits: ZipLimits, *, tmp_dir: Path | None = None) -> None:
    """Raise DocumentRejected (zip_bomb / corrupt) unless the archive is safe to keep."""
    _check_member_count(path, limits)
    budget = _Budget(limits.max_total_uncompressed, tmp_dir)
    try:
        with zipfile.ZipFile(path) as zf:
            _check_archive(zf, limits, budget, depth=1)
    except DocumentRejected:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise DocumentRejected("corrupt", {"reason": "bad_zip"}) from exc
    except (NotImplementedError, RuntimeError) as exc:  # unknown compression, encryption
        raise DocumentRejected("corrupt", {"reason": "unsupported_zip"}) from exc


def _check_archive(zf: zipfile.ZipFile, limits: ZipLimits, budget: _Budget, depth: int) -> None:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise _bomb("member_count", members=len(infos), limit=limits.max_members)
    declared_total = sum(info.file_size for info in infos)
    if declared_total > budget.remaining:
        raise _bomb("total_size", limit=limits.max_total_uncompressed)
    names: set[str] = set()
    for info in infos:
        _check_name(info.filename)
        if info.filename in names:
            raise DocumentRejected("corrupt", {"reason": "duplicate_member"})
        names.add(info.filename)
        if info.flag_bits & 0x1:
            raise DocumentRejected("corrupt", {"reason": "encrypted_member"})
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= limits.ratio_min_bytes and ratio > limits.max_ratio:
            raise _bomb("ratio", member=info.filename, ratio=round(ratio, 1))
    for info in infos:
        if not info.is_dir():
            _check_member(zf, info, limits, budget, depth)


def _check_name(name: str) -> None:
    parts = re.split(r"[/\\]", name)
    if (
        name.startswith(("/", "\\"))
        or _DRIVE.match(name)
        or "\x00" in name
        or ".." in parts
    ):
        raise _bomb("path_traversal", member=name)


def _check_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, budget: _Budget, depth: int
) -> None:
    """Decompress one member for real (CRC checked by zipfile), counting against the budget."""
    spool: IO[bytes] | None = None
    try:
        with zf.open(info) as member:
            first = True
            while chunk := member.read(_CHUNK):
                budget.remaining -= len(chunk)
                if budget.remaining < 0:
                    raise _bomb("total_size", limit=limits.max_total_uncompressed)
                if first and chunk.startswith((_ZIP_LOCAL, _ZIP_EMPTY)):
                    if depth >= limits.max_depth:
                        raise _bomb("nesting", member=info.filename, limit=limits.max_depth)
                    spool = tempfile.SpooledTemporaryFile(max_size=_CHUNK * 16, dir=budget.tmp_dir)
                first = False
                if spool is not None:
                    spool.write(chunk)
        if spool is not None:
            spool.seek(0)
            with zipfile.ZipFile(spool) as inner:
                _check_archive(inner, limits, budget, depth + 1)
    finally:
        if spool is not None:
            spool.close()
