"""The archive: every table, stored files, a manifest of SHA-256 sums; the audit chain detects edits."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from workflows import archive
from workflows.core import audit, conversation
from workflows import publicity
from workflows.documents.store import AllowedTypes, DocumentStore, ZipLimits
from workflows.tables import Base
from workflows.core.models import WecomToken

from .publicity_fixtures import START, make_apps, make_roster, committee_result

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LIMITS = ZipLimits(max_total_uncompressed=10 << 20, max_ratio=100, ratio_min_bytes=1 << 20, max_members=100,
                   max_depth=2)


@pytest.fixture
def filled(settings, sessions, tmp_path):
    store = DocumentStore(Path(settings.storage.dir), zip_limits=LIMITS)
    with sessions.begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        s.add(WecomToken(key="corp:app", token="SECRET-ACCESS-TOKEN", expires_at=START, generation=1))
        committee_result(s, settings, ids[:3], ids[3:])
        publicity.start_publicity(s, settings, actor="mishu1", now=START)
        publicity.begin(s, settings, userid="u1", now=START)
        conv = conversation.current(s, "u1")
        publicity.choose_target(s, settings, conv, "1", now=START)
        draft = publicity.set_content(s, settings, conv, "这是一条足够长的投诉内容，用于测试归档。", now=START)
        stored = store.store(io.BytesIO(PDF), original_name="证据.pdf", allowed=AllowedTypes.from_config(["pdf"]),
                             max_bytes=1 << 20)
        publicity.attach_evidence(s, complaint_id=draft.id, sha256=stored.sha256, size=stored.size, kind="pdf",
                                   original_name="证据.pdf", now=START)
    return store


def export(settings, sessions, store, out):
    with sessions.begin() as s:
        return archive.export(s, settings, actor="cli", now=START + dt.timedelta(days=60), out=out, store=store,
                              extra_files={"verification.md": "# 核查报告".encode()})


def test_archive_holds_every_table_files_and_a_manifest_of_sums(settings, sessions, filled, tmp_path):
    out = tmp_path / "edition.zip"
    manifest = export(settings, sessions, filled, out)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        for table in Base.metadata.sorted_tables:
            if table.name != "wecom_token":
                assert f"tables/{table.name}.csv" in names and f"tables/{table.name}.json" in names
        assert "tables/wecom_token.csv" not in names
        assert not any(b"SECRET-ACCESS-TOKEN" in zf.read(n) for n in names)
        assert zf.read(f"files/{hashlib.sha256(PDF).hexdigest()}") == PDF
        assert zf.read("reports/verification.md").decode() == "# 核查报告"
        apps = json.loads(zf.read("tables/application.json"))
        assert [a["number"] for a in apps] == [f"SG2018-00{i}" for i in range(1, 6)]
        for f in manifest["files"]:
            assert hashlib.sha256(zf.read(f["path"])).hexdigest() == f["sha256"]
    assert manifest["audit"]["chain_ok"] and manifest["tables"]["complaint"] == 1
    assert archive.verify_archive(out) == []


def test_a_changed_file_in_the_archive_is_reported(settings, sessions, filled, tmp_path):
    out = tmp_path / "edition.zip"
    export(settings, sessions, filled, out)
    bad = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data.replace("SG2018-001".encode(), b"SG2018-999") if name.endswith(
                "application.json") else data)
    assert archive.verify_archive(bad) == ["checksum mismatch tables/application.json"]


def test_audit_chain_detects_a_modified_entry(settings, sessions, filled):
    with sessions.begin() as s:
        assert archive.verify_audit(s).ok
        s.execute(text("UPDATE audit_entry SET actor = 'someone' WHERE id = 2"))
    with sessions() as s:
        check = archive.verify_audit(s)
        assert not check.ok and check.first_bad_id == 2 and check.problem == "modified"


def test_audit_chain_detects_a_deleted_middle_entry(settings, sessions, filled):
    with sessions.begin() as s:
        s.execute(text("DELETE FROM audit_entry WHERE id = 2"))
    with sessions() as s:
        check = archive.verify_audit(s)
        assert not check.ok and check.problem == "deleted_or_reordered"


def test_deleting_the_newest_entry_is_caught_by_the_archived_head(settings, sessions, filled, tmp_path):
    manifest = export(settings, sessions, filled, tmp_path / "a.zip")
    head = manifest["audit"]
    with sessions.begin() as s:
        assert head["head_id"] == audit.entries(s)[-1].id
        assert archive.verify_audit(s, head_id=head["head_id"], head_hash=head["head_hash"]).ok
        s.execute(text(f"DELETE FROM audit_entry WHERE id = {head['head_id']}"))
    with sessions() as s:
        assert archive.verify_audit(s).ok  # the chain alone cannot see it ...
        check = archive.verify_audit(s, head_id=head["head_id"], head_hash=head["head_hash"])
        assert not check.ok and check.problem == "deleted_or_reordered"  # ... the stored head can


def test_archived_audit_log_is_checked_against_the_manifest_head(settings, sessions, filled, tmp_path):
    out = tmp_path / "a.zip"
    export(settings, sessions, filled, out)
    bad = tmp_path / "shortened.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(bad, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        rows = json.loads(src.read("tables/audit_entry.json"))[:-1]
        data = json.dumps(rows).encode()
        for f in manifest["files"]:
            if f["path"] == "tables/audit_entry.json":
                f["sha256"], f["size"] = hashlib.sha256(data).hexdigest(), len(data)
        for name in src.namelist():
            if name not in ("manifest.json", "tables/audit_entry.json"):
                dst.writestr(name, src.read(name))
        dst.writestr("tables/audit_entry.json", data)
        dst.writestr("manifest.json", json.dumps(manifest))
    assert archive.verify_archive(bad) == [f"audit log deleted_or_reordered at entry {len(rows) + 1}"]


def test_archive_csv_writes_what_a_person_typed_as_text_and_json_keeps_it_exact(settings, sessions, filled, tmp_path):
    formula = '=HYPERLINK("http://example.invalid/x","查看材料")'
    with sessions.begin() as s:
        s.execute(text("UPDATE application SET enterprise_name = :n, contact_phone = '+8613800000000' "
                       "WHERE number = 'SG2018-001'"), {"n": formula})
        s.execute(text("UPDATE application SET enterprise_name = :n WHERE number = 'SG2018-002'"),
                  {"n": "\tTAB"})
    out = tmp_path / "edition.zip"
    export(settings, sessions, filled, out)
    with zipfile.ZipFile(out) as zf:
        rows = {r["number"]: r for r in csv.DictReader(io.StringIO(zf.read("tables/application.csv").decode()
                                                                     .lstrip("\ufeff")))}
        exact = {a["number"]: a for a in json.loads(zf.read("tables/application.json"))}
    assert rows["SG2018-001"]["enterprise_name"] == "'" + formula
    assert rows["SG2018-001"]["contact_phone"] == "'+8613800000000"
    assert rows["SG2018-002"]["enterprise_name"] == "'\tTAB"
    assert exact["SG2018-001"]["enterprise_name"] == formula          # the JSON table is the exact record
    for r in rows.values():                                            # no cell of the CSV starts a formula
        assert not any(str(v).startswith(("=", "+", "-", "@", "\t", "\r")) for v in r.values())
