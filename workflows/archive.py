"""The edition's archive: every table as CSV and JSON, stored files, reports, the audit log, a manifest.

Tables are exported generically from `Base.metadata`, so whatever other stages add (score sheets,
ballots, tallies) is archived without this module knowing them; tables and columns that hold
secrets or tokens are left out.  Only this edition's rows are exported (`tables.edition_filter`); the
deployment's shared tables (roster, audit log, messaging state: `tables.SHARED_TABLES`) go in whole.
Every document the edition received is kept (replaced drafts too: the archive is the record); the
manifest's ``current_documents`` names the ones in force (`apply.current_documents`).  ``manifest.json`` lists every file's SHA-256 and size, and the
audit log's head (id and hash of the newest entry, itself the ``archive.export`` entry).

The head is what makes deleting the *newest* audit entries detectable: the hash chain alone
cannot tell a shortened log from an untouched one, so `verify_audit` checks the live log
still contains the head recorded in an archive's manifest.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit
from workflows.core.cells import text_cell
from workflows.core.auditchain import ChainProblem, verify_chain
from workflows.documents.store import DocumentCorrupted, DocumentMissing, DocumentStore
from workflows.core.models import AuditEntry
from workflows.apply.models import Application
from workflows.apply.records import current_documents
from workflows.tables import SHARED_TABLES, Base, edition_filter
from workflows.core.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
EXCLUDED_TABLES = frozenset({"wecom_token"})
SECRET_COLUMN = re.compile(r"token|secret|password|passwd|aes_key|access_key", re.IGNORECASE)
# (table, sha256 column, size column): rows whose bytes live in the document store.
FILE_TABLES = (("document", "sha256", "size"), ("complaint_evidence", "sha256", "size"))


@dataclass(frozen=True)
class AuditCheck:
    """The outcome of checking the live audit log (and, if given, an archived head)."""

    ok: bool
    entries: int
    head_id: int | None
    head_hash: str
    problem: str | None
    first_bad_id: int | None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _table_rows(session: Session, table: Any, edition: str) -> tuple[list[str], list[dict[str, Any]]]:
    cols = [c for c in table.columns if not SECRET_COLUMN.search(c.name)]
    order = list(table.primary_key.columns) or cols
    q = select(*cols).order_by(*order)
    where = edition_filter(table, edition)
    if where is not None:
        q = q.where(where)
    rows = session.execute(q).mappings().all()
    return [c.name for c in cols], [{k: _plain(v) for k, v in row.items()} for row in rows]


def _csv(names: list[str], rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=names)
    writer.writeheader()
    for row in rows:
        # Text a person typed is written as text (`cells.text_cell`); the JSON tables keep exact values.
        writer.writerow({k: text_cell(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
                         for k, v in row.items()})
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens Chinese CSV correctly


def _current_documents(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """The edition's current documents (the one definition, `apply.current_documents`), by application."""
    apps = session.scalars(select(Application).where(Application.edition == settings.award.edition_key)
                           .order_by(Application.id))
    return [{"application_id": app.id, "number": app.number, "item": doc.item_key, "document_id": doc.id,
             "sha256": doc.sha256, "name": doc.original_name}
            for app in apps for doc in sorted(current_documents(app).values(), key=lambda d: d.id)]


def verify_audit(session: Session, *, head_id: int | None = None, head_hash: str | None = None) -> AuditCheck:
    """Check the audit chain, and that it still holds a head recorded earlier (e.g. in an archive manifest)."""
    report = audit.verify(session)
    count = report.checked
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    if not report.ok:
        return AuditCheck(False, count, last[0] if last else None, report.head, str(report.problem),
                          report.first_bad_id)
    if head_id is not None:
        entry = session.get(AuditEntry, head_id)
        if entry is None or entry.hash != head_hash:
            return AuditCheck(False, count, last[0] if last else None, report.head,
                              str(ChainProblem.DELETED_OR_REORDERED), head_id)
    return AuditCheck(True, count, last[0] if last else None, report.head, None, None)


@access.guarded("archive.export")
def export(session: Session, settings: Settings, *, actor: str, now: dt.datetime, out: Path,
           store: DocumentStore | None = None, extra_files: dict[str, bytes] | None = None) -> dict[str, Any]:
    """Write the edition's archive zip to `out` and return its manifest (the export itself is audited)."""
    entry = audit.record(session, actor=actor, action="archive.export", subject=f"edition:{settings.award.edition_key}",
                         now=now, file=out.name)
    chain = verify_audit(session)
    files: dict[str, bytes] = {}
    tables: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in EXCLUDED_TABLES:
            continue
        names, rows = _table_rows(session, table, settings.award.edition_key)
        tables[table.name] = len(rows)
        files[f"tables/{table.name}.csv"] = _csv(names, rows)
        files[f"tables/{table.name}.json"] = json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")
    missing: list[str] = []
    if store is not None:
        for tname, sha_col, size_col in FILE_TABLES:
            table = Base.metadata.tables.get(tname)
            if table is None:
                continue
            where = edition_filter(table, settings.award.edition_key)
            q = select(table.c[sha_col], table.c[size_col]).distinct()
            for sha, size in session.execute(q if where is None else q.where(where)):
                try:
                    files[f"files/{sha}"] = store.read_bytes(sha, size)
                except (DocumentMissing, DocumentCorrupted, OSError):
                    missing.append(sha)
    for name, content in (extra_files or {}).items():
        files[f"reports/{Path(name).name}"] = content
    manifest = {
        "format": FORMAT, "edition": settings.award.edition_key, "edition_name": settings.award.edition_name,
        "generated_at": now.astimezone(dt.timezone.utc).isoformat(), "generated_by": actor,
        "tables": tables, "excluded_tables": sorted(EXCLUDED_TABLES), "shared_tables": sorted(SHARED_TABLES),
        "missing_files": sorted(missing), "current_documents": _current_documents(session, settings),
        "audit": {"entries": chain.entries, "head_id": entry.id, "head_hash": entry.hash, "chain_ok": chain.ok},
        "files": [{"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for p, b in sorted(files.items())],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, content in sorted(files.items()):
            zf.writestr(path, content)
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    tmp.replace(out)
    return manifest


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of an archive zip."""
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(MANIFEST))


def verify_archive(path: Path) -> list[str]:
    """Problems found in an archive: files that do not match the manifest, a broken archived audit log."""
    problems: list[str] = []
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        names = set(zf.namelist()) - {MANIFEST}
        listed = {f["path"] for f in manifest["files"]}
        problems += [f"unlisted file {n}" for n in sorted(names - listed)]
        for f in manifest["files"]:
            if f["path"] not in names:
                problems.append(f"missing file {f['path']}")
                continue
            data = zf.read(f["path"])
            if hashlib.sha256(data).hexdigest() != f["sha256"] or len(data) != f["size"]:
                problems.append(f"checksum mismatch {f['path']}")
        if "tables/audit_entry.json" in names:
            rows = json.loads(zf.read("tables/audit_entry.json"))
            report = verify_chain(((r["id"], r["prev_hash"], r["hash"], _archived_fields(r)) for r in rows),
                                  expected_head=manifest["audit"]["head_hash"])
            if not report.ok:
                problems.append(f"audit log {report.problem} at entry {report.first_bad_id}")
    return problems


def _archived_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The hashed fields of an archived audit row (times back to aware datetimes)."""
    at = dt.datetime.fromisoformat(row["at"])
    return {"id": row["id"], "at": at, "actor": row["actor"], "action": row["action"],
            "subject": row["subject"], "details": row["details"]}
