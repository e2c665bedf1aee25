"""Importing a förbund's archive (archive.py) into this installation: a new förbund, every row
with a new id, every foreign key rewritten, the access log's chain computed again, all verified
against the manifest before the commit."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import Integer, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.util import sort_tables

from coordination.audit.chain import digest
from coordination.extensions import db
from coordination.tenancy.archive import (
    BATCH,
    JSON_ID_COLUMNS,
    JSON_ID_KEYS,
    PLAIN_ID_COLUMNS,
    TYPE_TABLES,
    TYPED_ID_COLUMNS,
    USERS,
    ArchiveError,
    _revive,
    _rows_of,
    _tenant_tables,
    content_digest,
    read_manifest,
    revision,
)
from coordination.tenancy.context import use
from coordination.tenancy.models import SLUG_PATTERN, Forbund


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
