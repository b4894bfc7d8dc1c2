import hashlib
import io
import os
import random
import struct
import zipfile
import zlib

import pytest

from workflows.documents.store import (
    AllowedTypes,
    DocumentCorrupted,
    DocumentMissing,
    DocumentRejected,
    DocumentStore,
    ZipLimits,
    display_name,
)

MiB = 1024 * 1024
LIMITS = ZipLimits(
    max_total_uncompressed=8 * MiB,
    max_ratio=100,
    ratio_min_bytes=MiB,
    max_members=200,
    max_depth=2,
)
ALLOWED = AllowedTypes.from_config(["pdf", "jpeg", "png", "docx", "xlsx"])
MAX = 2 * MiB


# --- sample files ----------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def png_bytes() -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def docx_bytes(extra: dict[str, bytes] | None = None) -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
            "word/document.xml": "<w:document><w:body><w:p>申请表</w:p></w:body></w:document>".encode(),
            **(extra or {}),
        }
    )


def xlsx_bytes() -> bytes:
    return zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": b"<workbook/>"})


def ole_bytes(stream_name: str) -> bytes:
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * (512 - 8)
    entry = bytearray(128)
    encoded = (stream_name + "\x00").encode("utf-16-le")
    entry[: len(encoded)] = encoded
    struct.pack_into("<H", entry, 64, len(encoded))
    entry[66] = 2  # stream object
    root = bytearray(128)
    root_name = "Root Entry\x00".encode("utf-16-le")
    root[: len(root_name)] = root_name
    struct.pack_into("<H", root, 64, len(root_name))
    root[66] = 5
    return header + bytes(root) + bytes(entry) + b"\x00" * 256


class CountingStream(io.RawIOBase):
    """An endless upload produced by a generator; counts the bytes handed out."""

    def __init__(self, chunk: bytes = b"%PDF-" + b"x" * 65531):
        self.handed_out = 0
        self._gen = iter(lambda: chunk, None)
        self._buffer = b""

    def readable(self):
        return True

    def readinto(self, target):
        if not self._buffer:
            self._buffer = next(self._gen)
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        self.handed_out += n
        return n


@pytest.fixture
def store(tmp_path):
    return DocumentStore(tmp_path / "uploads", zip_limits=LIMITS)


def put(store, data: bytes, name: str, allowed=ALLOWED, max_bytes=MAX):
    return store.store(io.BytesIO(data), original_name=name, allowed=allowed, max_bytes=max_bytes)


def rejected(store, data: bytes, name: str, **kwargs) -> DocumentRejected:
    before = stored_files(store)
    with pytest.raises(DocumentRejected) as info:
        put(store, data, name, **kwargs)
    assert list(store.tmp.iterdir()) == [], "temp file left behind"
    assert stored_files(store) == before, "refused upload was stored"
    return info.value


def stored_files(store):
    return [p for p in store.root.rglob("*") if p.is_file() and store.tmp not in p.parents]


# --- sniffing and acceptance -----------------------------------------------------------


@pytest.mark.parametrize(
    "data, name, kind, mime",
    [
        (PDF, "申请表.pdf", "pdf", "application/pdf"),
        (JPEG, "photo.JPG", "jpeg", "image/jpeg"),
        (png_bytes(), "营业执照.png", "png", "image/png"),
        (docx_bytes(), "自评报告.docx", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (xlsx_bytes(), "数据.xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_kinds_are_sniffed_and_stored_under_their_hash(store, data, name, kind, mime):
    doc = put(store, data, name)
    sha = hashlib.sha256(data).hexdigest()
    assert (doc.sha256, doc.size, doc.kind, doc.mime) == (sha, len(data), kind, mime)
    assert doc.original_name == name and doc.is_new
    assert store.path_for(sha) == store.root / sha[:2] / sha[2:4] / sha
    assert stored_files(store) == [store.path_for(sha)]
    assert store.read_bytes(sha, len(data)) == data


def test_chinese_name_keeps_its_display_name(store):
    doc = put(store, PDF, "申请表.pdf")
    assert doc.display_name() == "申请表.pdf"
    assert display_name("申请表.pdf", "pdf") == "申请表.pdf"
    assert "申请表" not in str(store.path_for(doc.sha256))


def test_name_without_extension_is_accepted_on_its_content(store):
    doc = put(store, JPEG, "image")
    assert doc.kind == "jpeg" and doc.extension == "jpg"
    assert doc.display_name() == "image.jpg"


def test_old_office_formats_when_allowed(store):
    allowed = AllowedTypes.from_config(["doc", "xls"])
    assert put(store, ole_bytes("WordDocument"), "旧申请表.doc", allowed=allowed).kind == "doc"
    assert put(store, ole_bytes("Workbook"), "旧表.xls", allowed=allowed).kind == "xls"
    assert rejected(store, ole_bytes("WordDocument"), "x.doc").code == "type_not_allowed"
    assert rejected(store, ole_bytes("EncryptedPackage"), "x.docx").data["reason"] == "encrypted"


# --- refusals --------------------------------------------------------------------------


def test_html_renamed_pdf_is_refused(store):
    error = rejected(store, HTML, "申请表.pdf")
    assert error.code == "unknown_type"
    assert error.data == {"declared": "pdf"}


def test_declared_extension_must_match_sniffed_kind(store):
    error = rejected(store, png_bytes(), "scan.pdf")
    assert error.code == "type_not_allowed"
    assert error.data["declared"] == "pdf" and error.data["detected"] == "png"


def test_kind_not_allowed_for_the_slot(store):
    error = rejected(store, PDF, "x.pdf", allowed=AllowedTypes.from_config(["jpeg", "png"]))
    assert error.code == "type_not_allowed"
    assert error.data["detected"] == "pdf" and error.data["allowed"] == ["jpeg", "png"]


def test_plain_zip_is_not_a_docx(store):
    error = rejected(store, zip_bytes({"a.txt": b"hello"}), "x.docx")
    assert error.code == "type_not_allowed" and error.data["detected"] == "zip"


def test_empty_upload(store):
    assert rejected(store, b"", "x.pdf").code == "empty"


def test_truncated_pdf_is_corrupt(store):
    error = rejected(store, PDF[:40], "x.pdf")
    assert error.code == "corrupt" and error.data["reason"] == "pdf_truncated"


def test_oversize_is_refused_while_streaming(store):
    stream = CountingStream()
    with pytest.raises(DocumentRejected) as info:
        store.store(stream, original_name="big.pdf", allowed=ALLOWED, max_bytes=100_000)
    assert info.value.code == "too_large"
    assert info.value.data == {"max_bytes": 100_000}
    assert stream.handed_out <= 100_001  # an endless stream, never read beyond the cap
    assert list(store.tmp.iterdir()) == []


def test_exactly_max_bytes_is_accepted(store):
    data = PDF + b"%" * 100
    assert put(store, data, "x.pdf", max_bytes=len(data)).size == len(data)
    assert rejected(store, data + b"\n", "y.pdf", max_bytes=len(data)).code == "too_large"


def test_failing_stream_leaves_no_temp_file(store):
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, target):
            raise ConnectionResetError("upload interrupted")

    with pytest.raises(ConnectionResetError):
        store.store(Broken(), original_name="x.pdf", allowed=ALLOWED, max_bytes=MAX)
    assert list(store.tmp.iterdir()) == []


# --- zip bombs -------------------------------------------------------------------------


def test_zip_bomb_docx_is_refused(store):
    bomb = docx_bytes({"word/media/image1.png": b"\x00" * (20 * MiB)})
    assert len(bomb) < MAX
    error = rejected(store, bomb, "申请表.docx")
    assert error.code == "zip_bomb"
    assert error.data["reason"] in {"total_size", "ratio"}


def test_high_ratio_member_is_refused(store):
    error = rejected(store, docx_bytes({"word/media/a.bin": b"\x00" * (2 * MiB)}), "x.docx")
    assert error.code == "zip_bomb" and error.data["reason"] == "ratio"


def test_total_size_counts_every_member(store):
    noise = random.Random(7).randbytes(MiB)  # incompressible: no member trips the ratio
    members = {f"word/media/{i}.bin": noise for i in range(9)}  # 9 x 1 MiB, all small alone
    error = rejected(store, docx_bytes(members), "x.docx", max_bytes=16 * MiB)
    assert error.code == "zip_bomb" and error.data["reason"] == "total_size"


def test_too_many_members_is_refused(store):
    members = {f"word/m{i}.xml": b"" for i in range(LIMITS.max_members + 1)}
    error = rejected(store, docx_bytes(members), "x.docx")
    assert error.code == "zip_bomb" and error.data["reason"] == "member_count"


def test_nested_archive_within_depth_is_accepted_beyond_is_refused(store):
    chart = xlsx_bytes()
    doc = put(store, docx_bytes({"word/embeddings/chart.xlsx": chart}), "x.docx")
    assert doc.kind == "docx"
    deeper = docx_bytes({"word/embeddings/outer.zip": zip_bytes({"inner.zip": chart})})
    error = rejected(store, deeper, "y.docx")
    assert error.code == "zip_bomb" and error.data["reason"] == "nesting"


@pytest.mark.parametrize("name", ["../../etc/cron.d/x", "/etc/passwd", "word/../../x", "C:/x.xml", "..\\x"])
def test_path_traversal_member_names_are_refused(store, name):
    error = rejected(store, docx_bytes({name: b"x"}), "x.docx")
    assert error.code == "zip_bomb" and error.data["reason"] == "path_traversal"


def test_damaged_zip_member_is_corrupt(store):
    data = bytearray(docx_bytes({"word/media/a.txt": b"A" * 1000}))
    offset = bytes(data).index(b"word/media/a.txt") + len("word/media/a.txt")
    data[offset + 5] ^= 0xFF  # inside the compressed data of that member
    assert rejected(store, bytes(data), "x.docx").code == "corrupt"


def test_macro_enabled_document_renamed_docx_is_refused(store):
    error = rejected(store, docx_bytes({"word/vbaProject.bin": b"\x00" * 10}), "x.docx")
    assert error.code == "type_not_allowed" and error.data["reason"] == "macros"


# --- storage and reading ---------------------------------------------------------------


def test_identical_content_is_stored_once(store):
    first = put(store, PDF, "申请表.pdf")
    second = put(store, PDF, "copy of 申请表.pdf")
    assert first.sha256 == second.sha256
    assert (first.is_new, second.is_new) == (True, False)
    assert second.original_name == "copy of 申请表.pdf"
    assert len(stored_files(store)) == 1


def test_path_in_name_cannot_escape_the_store(store, tmp_path):
    doc = put(store, PDF, "../../x.pdf")
    assert doc.original_name == "../../x.pdf"
    assert doc.display_name() == "x.pdf"
    assert not (tmp_path / "x.pdf").exists()
    assert [p.name for p in stored_files(store)] == [doc.sha256]


def test_corrupted_file_is_detected_on_read(store):
    doc = put(store, PDF, "x.pdf")
    path = store.path_for(doc.sha256)
    path.write_bytes(PDF.replace(b"Catalog", b"Cat4log"))
    with pytest.raises(DocumentCorrupted) as info:
        store.read_bytes(doc.sha256, doc.size)
    assert info.value.reason == "hash_mismatch"
    path.write_bytes(PDF[:-1])
    with pytest.raises(DocumentCorrupted) as info:
        store.open(doc.sha256, doc.size)
    assert info.value.reason == "size_mismatch"


def test_reupload_repairs_a_corrupted_copy(store):
    doc = put(store, PDF, "x.pdf")
    store.path_for(doc.sha256).write_bytes(b"garbage")
    again = put(store, PDF, "x.pdf")
    assert again.is_new
    with store.open(doc.sha256, doc.size) as fh:
        assert fh.read() == PDF


def test_missing_and_malformed_hashes(store):
    with pytest.raises(DocumentMissing):
        store.open("0" * 64, 1)
    with pytest.raises(ValueError):
        store.open("../../etc/passwd", 1)
    with pytest.raises(ValueError):
        store.path_for("A" * 64)


def test_sweep_tmp_removes_only_old_leftovers(store):
    old = store.tmp / "old.part"
    old.write_bytes(b"x")
    new = store.tmp / "new.part"
    new.write_bytes(b"y")
    now = new.stat().st_mtime
    os.utime(old, (now - 7200, now - 7200))
    assert store.sweep_tmp(now=now, older_than_seconds=3600) == 1
    assert not old.exists() and new.exists()


# --- display names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "original, kind, expected",
    [
        ("申请表.pdf", "pdf", "申请表.pdf"),
        ("../../x.pdf", "pdf", "x.pdf"),
        ("C:\\Users\\张三\\桌面\\自评报告.docx", "docx", "自评报告.docx"),
        ("报告\u202efdp.exe", "pdf", "报告fdp.exe.pdf"),  # RTL override removed
        ("a\x00b\r\nc.pdf", "pdf", "abc.pdf"),
        ("照片.JPEG", "jpeg", "照片.JPEG"),
        ("scan", "png", "scan.png"),
        ("invoice.pdf", "png", "invoice.pdf.png"),
        ("..", "pdf", "document.pdf"),
        ("", "docx", "document.docx"),
        ("  名称  .pdf", "pdf", "名称.pdf"),
    ],
)
def test_display_name(original, kind, expected):
    assert display_name(original, kind) == expected


def test_display_name_length_is_bounded_and_keeps_extension():
    name = display_name("质" * 500 + ".pdf", "pdf", max_length=40)
    assert len(name) == 40 and name.endswith(".pdf")


def test_allowed_types_from_config_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="exe"):
        AllowedTypes.from_config(["pdf", "exe"])
    with pytest.raises(ValueError):
        AllowedTypes.from_config([])
    assert "pdf" in AllowedTypes.from_config(["PDF"])


def test_zip_that_lies_about_its_sizes_is_refused(store):
    data = bytearray(zip_bytes({"payload.bin": b"\x00" * (20 * MiB)}))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 1000)  # uncompressed size in the local header
    struct.pack_into("<I", data, central + 24, 1000)  # ... and in the central directory
    allowed = AllowedTypes.from_config(["zip"])
    error = rejected(store, bytes(data), "x.zip", allowed=allowed)
    assert error.code == "corrupt"  # never decompressed past the declared size


@pytest.mark.parametrize(
    "data, name, kind",
    [
        (b"GIF89a" + b"\x00" * 20, "a.gif", "gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8, "a.webp", "webp"),
        (zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "ppt/presentation.xml": b"<p/>"}), "a.pptx", "pptx"),
        (zip_bytes({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<d/>"}), "发票.ofd", "ofd"),
        (zip_bytes({"a.txt": b"hello"}), "附件.zip", "zip"),
        (ole_bytes("PowerPoint Document"), "a.ppt", "ppt"),
    ],
)
def test_other_configurable_kinds(store, data, name, kind):
    allowed = AllowedTypes.from_config([kind])
    assert put(store, data, name, allowed=allowed).kind == kind
