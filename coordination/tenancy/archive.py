"""Moving a förbund (../shared/DOMAIN.md §14): all its rows and documents to one archive, and from
the archive into another installation.

The archive is a zip file:

- `manifest.json`: the format, the förbund's short name and name, the migration revision, and per
  table its row count and two checksums: `sha256` over the table's file (its canonical JSON rows
  in primary-key order) and `content_sha256` over the rows without the columns that hold ids or
  that an import rewrites (order-free), which an import recomputes from what it wrote;
- `tables/<table>.jsonl`: one canonical JSON row a line, for every tenant table (rls.TENANT_TABLES,
  read generically from the metadata) and for the accounts the förbund's rows name
  (`user_account`, without passwords, second factors or installation roles);
- `attachments/<storage key>`: the attached files, each with its sha256 in the manifest.

An import needs the same migration revision, creates a new förbund and inserts every row in
foreign-key order with a new primary key from the target's sequences, rewriting every foreign key
(and the few columns that hold ids without one, `PLAIN_ID_COLUMNS` and `TYPED_ID_COLUMNS`) through
the maps of old to new ids. Accounts are matched by email to the target's, or created without a
usable password (their owners activate them again). The access log's hash chain covers the ids, so
the förbund's chain is computed again over the new values, in its old order. Everything happens in
one transaction, within the new förbund (row-level security), and is verified (counts, checksums)
before the commit.

The archive holds personal data in the clear (encrypted columns are decrypted on export and
encrypted with the target's key on import): keep it like the database itself.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (
    Date,
    Integer,
    Numeric,
    Table,
    Time,
    select,
    text,
)

from coordination.core.db import UTCDateTime
from coordination.extensions import db
from coordination.tenancy.context import use
from coordination.tenancy.models import Forbund
from coordination.tenancy.rls import TENANT_TABLES

FORMAT = "coordination-forbund-archive/1"
MANIFEST = "manifest.json"
USERS = "user_account"
# The account columns an archive carries: no password, second factor, installation role or keyed
# digest (the digest's key is the installation's); the rest is the target's own.
USER_COLUMNS = ("id", "email", "name", "phone", "locale", "active", "created_at", "hsa_id")

# Columns that hold the id of a row of another table without a foreign key (they outlive the row,
# or the table belongs to another package): column -> the table the id names.
PLAIN_ID_COLUMNS = {
    ("access_log", "person_id"): "person",
    ("extract_request", "person_id"): "person",
    ("sus_participant", "case_id"): "case_record",
    ("access_log_checkpoint", "first_id"): "access_log",
    ("access_log_checkpoint", "last_id"): "access_log",
    ("access_log_checkpoint", "broken_at_id"): "access_log",
}
# Columns that hold an id of the table their neighbouring type column names.
TYPED_ID_COLUMNS = {
    ("access_log", "object_id"): "object_type",
    ("notification", "subject_id"): "subject_type",
    ("reminder", "subject_id"): "subject_type",
}
# The object and subject types that name a table's rows by id; the others are left as they are.
TYPE_TABLES = {
    "access_log": "person",  # the log of one person read (a user's: "user:<id>", left)
    "action_plan": "case_record",
    "attachment": "attachment",
    "attendance": "attendance",
    "audit_sample": "audit_sample",
    "case": "case_record",
    "code": "code",
    "conference": "conference",
    "consent": "consent",
    "coordinator_profile": USERS,
    "day_off": "day_off",
    "decision": "decision",
    "escalation": "escalation",
    "follow_up": "follow_up",
    "group": "group_activity",
    "meeting": "meeting",
    "member_organisation": "member_organisation",
    "organisation_unit": "organisation_unit",
    "packet": "packet",
    "person": "person",
    "price_list": "socio_price_list",
    "programme_cost": "socio_programme_cost",
    "referral": "referral",
    "register_extract": "extract_request",
    "return_referral": "return_referral",
    "role_grant": "role_grant",
    "socio_calculation": "socio_calculation",
    "socio_economics": "programme",
    "sus_import": "sus_import_batch",
    "sus_participant": "sus_participant",
    "task": "case_task",
    "user": USERS,
}
# JSON columns whose objects name rows by id (a notification's or reminder's parameters, which
# its links are built from): key -> the table the id names; other keys are left as they are.
JSON_ID_COLUMNS = {("notification", "params"), ("reminder", "params")}
JSON_ID_KEYS = {
    "case_id": "case_record",
    "conference_id": "conference",
    "escalation_id": "escalation",
    "follow_up_id": "follow_up",
    "group_id": "group_activity",
    "meeting_id": "meeting",
    "packet_id": "packet",
    "referral_id": "referral",
    "task_id": "case_task",
}
# Columns an import writes anew on purpose: the chain's hashes (they cover the ids), the
# checkpoints' hashes of them, and the attachment's storage key (unique on the installation).
REWRITTEN_COLUMNS = {
    ("access_log", "prev_hash"),
    ("access_log", "hash"),
    ("access_log_checkpoint", "last_hash"),
    ("attachment", "storage_key"),
}
BATCH = 1_000


class ArchiveError(Exception):
    """The archive cannot be made or imported; the message says why (nothing was written)."""


def _plain(value):
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot archive a {type(value).__name__}")


def canonical(row: dict) -> str:
    """Return one row as canonical JSON: sorted keys, no spaces, dates in ISO 8601."""
    return json.dumps(
        row, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def _revive(table: Table, row: dict) -> dict:
    """Turn a row read from the archive back into the values its columns take."""
    out = {}
    for name, value in row.items():
        column = table.c[name]
        if value is not None:
            kind = column.type
            if isinstance(kind, UTCDateTime):
                value = datetime.fromisoformat(value)
            elif isinstance(kind, Date):
                value = date.fromisoformat(value)
            elif isinstance(kind, Time):
                value = time.fromisoformat(value)
            elif isinstance(kind, Numeric) and not isinstance(kind, Integer):
                value = Decimal(str(value))
        out[name] = value
    return out


def _id_columns(table: Table) -> set[str]:
    """Return the columns of a table that hold ids (or are rewritten by an import)."""
    names = {c.name for c in table.primary_key.columns} | {
        c.name for c in table.c if c.foreign_keys
    }
    names |= {c for (t, c) in PLAIN_ID_COLUMNS if t == table.name}
    names |= {c for (t, c) in TYPED_ID_COLUMNS if t == table.name}
    names |= {c for (t, c) in REWRITTEN_COLUMNS if t == table.name}
    names |= {c for (t, c) in JSON_ID_COLUMNS if t == table.name}
    return names


def content_digest(table: Table, rows: Iterable[dict]) -> str:
    """Return the sha256 over the rows without their id columns, whatever their order."""
    skip = _id_columns(table)
    lines = sorted(canonical({k: v for k, v in row.items() if k not in skip}) for row in rows)
    sha = hashlib.sha256()
    for line in lines:
        sha.update(line.encode("utf-8") + b"\n")
    return sha.hexdigest()


def _tenant_tables() -> list[Table]:
    return [t for t in db.metadata.sorted_tables if t.name in TENANT_TABLES]


def revision() -> str:
    """Return the database's migration revision (alembic_version)."""
    found = db.session.connection().execute(text("SELECT version_num FROM alembic_version"))
    return str(found.scalar())


# --- export --------------------------------------------------------------------------------------


def _rows_of(table: Table, forbund_id: int) -> Iterator[dict]:
    statement = (
        select(table)
        .where(table.c.forbund_id == forbund_id)
        .order_by(*table.primary_key.columns)
        .execution_options(yield_per=BATCH)
    )
    for row in db.session.connection().execute(statement):
        yield dict(row._mapping)


def export_forbund(slug: str, out: str | Path) -> dict:
    """Write one förbund's rows, accounts and attached files to a zip file; return its manifest."""
    from coordination.referrals.attachments import storage_dir

    db.session.rollback()  # one snapshot for every table: rows written meanwhile are all out
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    forbund = db.session.scalar(select(Forbund).where(Forbund.slug == slug))
    if forbund is None:
        raise ArchiveError(f"No förbund has the short name {slug!r}.")
    manifest: dict = {
        "format": FORMAT,
        "forbund": {"slug": forbund.slug, "name": forbund.name},
        "revision": revision(),
        "tables": {},
        "attachments": {},
    }
    users: set[int] = set()
    keys: list[str] = []
    with (
        use(forbund.id),
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
    ):
        for table in _tenant_tables():
            user_columns = [
                c.name
                for c in table.c
                if any(fk.column.table.name == USERS for fk in c.foreign_keys)
            ]
            rows = []
            sha = hashlib.sha256()
            with archive.open(f"tables/{table.name}.jsonl", "w", force_zip64=True) as stream:
                for row in _rows_of(table, forbund.id):
                    line = (canonical(row) + "\n").encode("utf-8")
                    sha.update(line)
                    stream.write(line)
                    users.update(row[c] for c in user_columns if row[c] is not None)
                    if table.name == "attachment":
                        keys.append(row["storage_key"])
                    rows.append(row)
            manifest["tables"][table.name] = {
                "rows": len(rows),
                "sha256": sha.hexdigest(),
                "content_sha256": content_digest(table, rows),
            }
        manifest["tables"][USERS] = _export_users(archive, users)
        folder = storage_dir()
        for key in keys:
            try:
                content = (folder / key).read_bytes()
            except FileNotFoundError as exc:
                raise ArchiveError(
                    f"An attached file is missing from {folder} (storage key {key[:8]}…)."
                ) from exc
            archive.writestr(f"attachments/{key}", content)
            manifest["attachments"][key] = {
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    db.session.rollback()
    return manifest


def _export_users(archive: zipfile.ZipFile, user_ids: set[int]) -> dict:
    """Write the accounts the rows name (members and every other user a row refers to)."""
    table = db.metadata.tables[USERS]
    columns = [table.c[name] for name in USER_COLUMNS]
    rows = [
        dict(row._mapping)
        for row in db.session.connection().execute(
            select(*columns).where(table.c.id.in_(sorted(user_ids))).order_by(table.c.id)
        )
    ]
    data = "".join(canonical(row) + "\n" for row in rows).encode("utf-8")
    archive.writestr(f"tables/{USERS}.jsonl", data)
    return {"rows": len(rows), "sha256": hashlib.sha256(data).hexdigest()}


def read_manifest(archive: zipfile.ZipFile) -> dict:
    """Return the archive's manifest; raise ArchiveError when it is not one of ours."""
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise ArchiveError(
            "The file is not a förbund archive (no readable manifest.json)."
        ) from exc
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"Unknown archive format {manifest.get('format')!r}; expected {FORMAT}.")
    return manifest


def manifest_of(path: str | Path) -> dict:
    """Return an archive's manifest (for tests and the command's summary)."""
    with zipfile.ZipFile(path) as archive:
        return read_manifest(archive)
