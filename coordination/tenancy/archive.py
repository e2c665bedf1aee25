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
import re
import secrets
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import (
    Date,
    Integer,
    Numeric,
    Table,
    Time,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.util import sort_tables

from coordination.audit.chain import digest
from coordination.core.db import UTCDateTime
from coordination.extensions import db
from coordination.tenancy.context import use
from coordination.tenancy.models import SLUG_PATTERN, Forbund
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


@dataclass
class ImportResult:
    """What an import created."""

    forbund_id: int
    slug: str
    rows: dict[str, int] = field(default_factory=dict)
    users_created: int = 0
    users_matched: int = 0
    attachments: int = 0
    log_rows_rechained: int = 0


# --- canonical rows ------------------------------------------------------------------------------


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


# --- import --------------------------------------------------------------------------------------


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


def _read_rows(archive: zipfile.ZipFile, manifest: dict, name: str) -> list[dict]:
    """Read a table's rows, checking its file against the manifest first."""
    expected = manifest["tables"].get(name)
    if expected is None:
        raise ArchiveError(f"The archive's manifest does not list the table {name}.")
    data = archive.read(f"tables/{name}.jsonl")
    if hashlib.sha256(data).hexdigest() != expected["sha256"]:
        raise ArchiveError(f"The archive's table {name} does not match its checksum.")
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
    if len(rows) != expected["rows"]:
        raise ArchiveError(f"The archive's table {name} does not have the rows its manifest says.")
    return rows


def _insert_order(tables: list[Table]) -> list[Table]:
    """Foreign-key order, plus the tables the plain id columns name before the tables naming
    them (so every id maps as its row is inserted)."""
    by_name = {t.name: t for t in tables}
    extra = [
        (by_name[target], by_name[source])
        for (source, _column), target in PLAIN_ID_COLUMNS.items()
        if source in by_name and target in by_name
    ]
    # A use_alter key (referral.decision_id) is left out of the metadata's order: its table first
    # where that makes no cycle, so the key maps as the row is inserted (CHECKs may need it).
    extra += [
        (by_name[fk.column.table.name], table)
        for table in tables
        for fk in table.foreign_keys
        if fk.use_alter and fk.column.table.name in by_name and fk.column.table is not table
    ]
    extra += [
        (by_name[target], by_name[source])
        for (source, _column) in JSON_ID_COLUMNS
        for target in JSON_ID_KEYS.values()
        if source in by_name and target in by_name
    ]
    for (source, _column), _type_column in TYPED_ID_COLUMNS.items():
        extra += [
            (by_name[target], by_name[source])
            for target in TYPE_TABLES.values()
            if source in by_name and target in by_name and target != source
        ]
    return list(sort_tables(tables, extra_dependencies=extra))


class _Importer:
    """One import: the archive, the id maps (table -> old id -> new id) and what is left to do."""

    def __init__(self, archive: zipfile.ZipFile, manifest: dict, forbund_id: int):
        self.archive, self.manifest, self.forbund_id = archive, manifest, forbund_id
        self.maps: dict[str, dict[int, int]] = {"forbund": {}}
        self.connection = db.session.connection()
        self.deferred: list[tuple[Table, int, dict]] = []  # (table, new id, {column: old id})
        self.written: list[Path] = []
        self.log_hashes: dict[int, str] = {}  # old access-log id -> its new hash
        self.rechained = 0

    def new_id(self, table_name: str, old):
        """Return the new id of a row by its old one (None when the row was not imported)."""
        if old is None:
            return None
        return self.maps.get(table_name, {}).get(int(old))

    def users(self) -> tuple[int, int]:
        """Match the archive's accounts by email, or create them without a usable password."""
        from coordination.auth.activation import unusable_password_hash

        table = db.metadata.tables[USERS]
        mapping: dict[int, int] = {}
        created = matched = 0
        for row in _read_rows(self.archive, self.manifest, USERS):
            row = _revive(table, row)
            old = row.pop("id")
            email = row["email"].strip().lower()
            existing = self.connection.execute(
                select(table.c.id).where(table.c.email == email)
            ).scalar()
            if existing is not None:
                mapping[old] = existing
                matched += 1
                continue
            row.update(email=email, password_hash=unusable_password_hash())
            mapping[old] = self.connection.execute(
                insert(table).values(**row).returning(table.c.id)
            ).scalar_one()
            created += 1
        self.maps[USERS] = mapping
        return created, matched

    def table(self, table: Table, rows: list[dict]) -> None:
        """Insert one table's rows with new ids and mapped references."""
        pk = list(table.primary_key.columns)
        fresh_id = len(pk) == 1 and not pk[0].foreign_keys and isinstance(pk[0].type, Integer)
        # References to rows not inserted yet (the row's own table, a cycle's use_alter key): NULL
        # first, set once every row has its new id.
        later = {
            c.name: fk.column.table.name
            for c in table.c
            for fk in c.foreign_keys
            if fk.column.table.name not in self.maps
        }
        mapping: dict[int, int] = {}
        self.maps[table.name] = mapping
        olds = [_revive(table, row) for row in rows]
        values, pending = [], []
        for row in olds:
            own = self._map_row(table, row, later)
            pending.append({name: row[name] for name in later if row.get(name) is not None})
            for name in later:
                own[name] = None
            values.append(own)
        if table.name == "access_log":
            self._chain(olds, values)
        if not fresh_id:
            if any(pending):
                raise ArchiveError(f"Cannot defer references of {table.name} (no single id).")
            for start in range(0, len(values), BATCH):
                self.connection.execute(insert(table), values[start : start + BATCH])
            return
        old_ids = [row[pk[0].name] for row in olds]
        for row in values:
            del row[pk[0].name]
        for start in range(0, len(values), BATCH):
            new_ids = self.connection.execute(
                insert(table).returning(pk[0], sort_by_parameter_order=True),
                values[start : start + BATCH],
            ).scalars()
            mapping.update(zip(old_ids[start : start + BATCH], new_ids, strict=True))
        self.deferred += [
            (table, mapping[old], p) for old, p in zip(old_ids, pending, strict=True) if p
        ]

    def _chain(self, olds: list[dict], values: list[dict]) -> None:
        """Compute the förbund's access-log chain again over the new values, in its old order
        (before the insert: the log takes no update but the sweeper's).

        The first kept row keeps its prev_hash (the hash of a row pruned before the export, or
        empty); rows not chained yet are left to the sweeper. The checkpoints (inserted after)
        take the new hash of the row they stopped at.
        """
        chained = sorted(
            (pair for pair in zip(olds, values, strict=True) if pair[1]["chain_seq"] is not None),
            key=lambda pair: pair[1]["chain_seq"],
        )
        previous: str | None = None
        for old, row in chained:
            row["prev_hash"] = old["prev_hash"] if previous is None else previous
            row["hash"] = previous = digest(SimpleNamespace(**row))
            self.log_hashes[old["id"]] = row["hash"]
        self.rechained = len(chained)

    def _map_row(self, table: Table, row: dict, later: dict[str, str]) -> dict:
        own = dict(row)
        own["forbund_id"] = self.forbund_id
        for column in table.c:
            value = row.get(column.name)
            if value is None or column.name == "forbund_id" or column.name in later:
                continue
            for fk in column.foreign_keys:
                target = fk.column.table.name
                if target != "forbund":
                    new = self.new_id(target, value)
                    if new is None:
                        raise ArchiveError(
                            f"{table.name}.{column.name} names {target} {value}, "
                            "which is not in the archive."
                        )
                    own[column.name] = new
        for (name, column_name), target in PLAIN_ID_COLUMNS.items():
            if name == table.name and row.get(column_name) is not None:
                new = self.new_id(target, row[column_name])
                # An id of a row that is gone (an erased person) names nothing here: NULL, where
                # the column allows it; else the old value stays.
                if new is not None or table.c[column_name].nullable:
                    own[column_name] = new
        for (name, column_name), type_column in TYPED_ID_COLUMNS.items():
            if name != table.name or row.get(column_name) is None:
                continue
            kind = TYPE_TABLES.get(row.get(type_column) or "")
            old = row[column_name]
            if kind is None or not re.fullmatch(r"\d+", str(old)):
                continue
            new = self.new_id(kind, old)
            if new is not None:
                own[column_name] = str(new) if isinstance(old, str) else new
        for name, column_name in JSON_ID_COLUMNS:
            if name == table.name and isinstance(row.get(column_name), dict):
                own[column_name] = {
                    key: self._json_id(key, value) for key, value in row[column_name].items()
                }
        if table.name == "attachment":
            own["storage_key"] = self._attachment(row["storage_key"])
        if table.name == "access_log_checkpoint" and row.get("last_id") in self.log_hashes:
            own["last_hash"] = self.log_hashes[row["last_id"]]
        return own

    def _json_id(self, key: str, value):
        target = JSON_ID_KEYS.get(key)
        if target is None or not isinstance(value, int) or isinstance(value, bool):
            return value
        new = self.new_id(target, value)
        return value if new is None else new

    def _attachment(self, key: str) -> str:
        """Store an attached file under a new key, checked against the manifest."""
        from coordination.referrals.attachments import storage_dir

        expected = self.manifest["attachments"].get(key)
        try:
            content = self.archive.read(f"attachments/{key}")
        except KeyError as exc:
            raise ArchiveError("An attached file is missing from the archive.") from exc
        if expected is None or hashlib.sha256(content).hexdigest() != expected["sha256"]:
            raise ArchiveError("An attached file does not match its checksum.")
        new_key = secrets.token_hex(32)
        path = storage_dir() / new_key
        path.write_bytes(content)
        self.written.append(path)
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected["sha256"]:
            raise ArchiveError("An attached file was not stored intact.")
        return new_key

    def references(self) -> None:
        """Set the references inserted NULL first, now that every row has its new id."""
        for table, new_id, pending in self.deferred:
            values = {}
            for name, old in pending.items():
                (fk,) = table.c[name].foreign_keys
                values[name] = self.new_id(fk.column.table.name, old)
                if values[name] is None:
                    raise ArchiveError(f"{table.name}.{name} names a row not in the archive.")
            pk = next(iter(table.primary_key.columns))
            self.connection.execute(update(table).where(pk == new_id).values(**values))

    def verify(self, tables: list[Table]) -> dict[str, int]:
        """Check what was written against the manifest: counts and content checksums."""
        counts = {}
        for table in tables:
            expected = self.manifest["tables"][table.name]
            rows = list(_rows_of(table, self.forbund_id))
            if len(rows) != expected["rows"]:
                raise ArchiveError(
                    f"{table.name}: {len(rows)} rows imported, the archive has {expected['rows']}."
                )
            if content_digest(table, rows) != expected["content_sha256"]:
                raise ArchiveError(f"{table.name}: the imported rows differ from the archive's.")
            counts[table.name] = len(rows)
        if len(self.maps[USERS]) != self.manifest["tables"][USERS]["rows"]:
            raise ArchiveError("Not every account of the archive was imported or matched.")
        counts[USERS] = len(self.maps[USERS])
        return counts


def check_revision(manifest: dict) -> None:
    """Refuse an archive made at another migration revision than this installation's."""
    ours = revision()
    if manifest.get("revision") != ours:
        raise ArchiveError(
            f"The archive was made at migration revision {manifest.get('revision')!r}, but this "
            f"installation is at {ours!r}. Upgrade the older one (flask db upgrade) and export or "
            "import again; nothing was imported."
        )


def import_forbund(
    path: str | Path, *, slug: str | None = None, name: str | None = None
) -> ImportResult:
    """Create a new förbund from an archive, all or nothing; return what was created."""
    with zipfile.ZipFile(path) as archive:
        manifest = read_manifest(archive)
        check_revision(manifest)
        slug = (slug or manifest["forbund"]["slug"]).strip()
        name = " ".join((name or manifest["forbund"]["name"]).split())
        if not re.match(SLUG_PATTERN, slug):
            raise ArchiveError(f"{slug!r} is not a short name (a–z, 0–9 and '-', at most 40).")
        if db.session.scalar(select(Forbund.id).where(Forbund.slug == slug)) is not None:
            raise ArchiveError(f"A förbund with the short name {slug!r} exists already.")
        if db.session.scalar(select(Forbund.id).where(Forbund.name == name)) is not None:
            raise ArchiveError(f"A förbund named {name!r} exists already (choose one with --name).")
        tables = _tenant_tables()
        missing = [t.name for t in tables if t.name not in manifest["tables"]]
        if missing:
            raise ArchiveError(f"The archive lacks tables of this installation: {missing}.")
        importer = None
        try:
            forbund = Forbund(slug=slug, name=name)
            db.session.add(forbund)
            db.session.flush()
            result = ImportResult(forbund_id=forbund.id, slug=slug)
            with use(forbund.id):
                try:
                    importer = _Importer(archive, manifest, forbund.id)
                    result.users_created, result.users_matched = importer.users()
                    for table in _insert_order(tables):
                        importer.table(table, _read_rows(archive, manifest, table.name))
                    importer.references()
                    result.log_rows_rechained = importer.rechained
                    result.rows = importer.verify(tables)
                    result.attachments = len(importer.written)
                    if result.attachments != len(manifest["attachments"]):
                        raise ArchiveError("Not every attached file of the archive was imported.")
                    db.session.commit()
                except IntegrityError as exc:
                    db.session.rollback()  # before leaving the förbund: the transaction is over
                    raise ArchiveError(
                        "The archive's rows clash with this installation's (nothing was "
                        f"imported): {str(exc.orig).splitlines()[0]}"
                    ) from exc
                except BaseException:
                    db.session.rollback()
                    raise
        except BaseException:
            db.session.rollback()
            for written in importer.written if importer is not None else []:
                written.unlink(missing_ok=True)
            raise
    return result


def manifest_of(path: str | Path) -> dict:
    """Return an archive's manifest (for tests and the command's summary)."""
    with zipfile.ZipFile(path) as archive:
        return read_manifest(archive)
