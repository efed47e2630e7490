"""Backups (备份与恢复): one archive file per backup, its restore into the configured database, and the restore drill
that proves an archive can be read back. The commands are `manage.py backup`, `restore` and `restore_drill`; the
operator guide ("Backups") is the procedure.

An archive is one tar file (mode 0600, written under a temporary name and renamed when complete):

    database.dump        PostgreSQL: `pg_dump --format=custom` of the configured database
    database.sqlite3     SQLite: a copy made with SQLite's online backup API (the server may keep running)
    media/…              every regular file under MEDIA_ROOT
    manifest.json        what the archive holds (last, since it names the hashes of what comes before it)

The manifest: when and from which database vendor, the latest applied migration of each app, every table's row
count and content checksum, every media file's size and SHA-256, the SHA-256 of the dump, and the encryption keys the
data needs, named by their key ids (kid) with a check value each (HMAC-SHA256 of a fixed text under the key: it tells
whether a key ring holds the same key without revealing anything of it). Never a key, never a clear value: ID numbers
and phones are in the dump only as the ciphertext they are stored as.

Rules this module implements:

- The table inventory in the manifest is taken from the very snapshot that is dumped (PostgreSQL: a REPEATABLE READ
  transaction whose exported snapshot pg_dump uses; SQLite: the copy itself), so it describes the database exactly
  as it was at the moment of the backup, whatever has been written since.
- A backup without its keys cannot be read: restore refuses, and the drill fails, when the key ring lacks a field
  key the data is sealed with or holds a different index key (lookups and uniqueness of ID numbers would silently
  stop matching). Keys are backed up separately (the operator guide says where).
- The drill restores into a scratch database (PostgreSQL: a new database, dropped afterwards; SQLite: a temporary
  file) and compares every table's row count and checksum, and every media file, with the manifest; any difference
  fails it.

Settings read here, each from settings.py if it defines it, else from the environment (none required):
DANGJIAN_BACKUP_DIR (default VAR_DIR/backups), DANGJIAN_PG_BIN_DIR (where pg_dump and pg_restore are, when the ones
on PATH are older than the server).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import hmac
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.utils import timezone

from dangjian.core import crypto
from dangjian.core.signals import operation_event

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
MEDIA_PREFIX = "media/"
ARCHIVE_PREFIX = "dangjian-backup-"
KEY_CHECK_TEXT = b"dangjian backup key check v1"
GUIDE = "docs/operator-guide.md 的“Backups → 密钥”一节"
_CHUNK = 1024 * 1024

VENDOR_LABELS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


class BackupError(Exception):
    """A backup, restore or drill that cannot go on; the message is the operator's (Chinese)."""


class KeysMissing(BackupError):
    """The key ring cannot read the archive's encrypted values."""


class DatabaseNotEmpty(BackupError):
    """A restore without --yes into a database that already has tables."""


@dataclass(frozen=True)
class TableSum:
    rows: int
    checksum: str


@dataclass(frozen=True)
class Snapshot:
    """What the manifest says about the dumped database, read from the dumped snapshot itself."""

    tables: dict[str, TableSum]
    key_ids: list[str]
    migrations: dict[str, str]


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    manifest: dict


@dataclass(frozen=True)
class RestoreResult:
    tables: int
    rows: int
    media_files: int
    media_left: int  # files under MEDIA_ROOT that the backup does not have (left in place)
    pending_migrations: list[str]


@dataclass(frozen=True)
class DrillRow:
    table: str
    expected: TableSum | None  # the manifest's
    found: TableSum | None  # the scratch restore's

    @property
    def ok(self) -> bool:
        return self.expected == self.found


@dataclass
class DrillReport:
    rows: list[DrillRow] = field(default_factory=list)
    media_files: int = 0
    media_problems: list[str] = field(default_factory=list)
    key_problems: list[str] = field(default_factory=list)
    other_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            all(row.ok for row in self.rows)
            and not self.media_problems
            and not self.key_problems
            and not self.other_problems
        )


# ---------------------------------------------------------------------------------------------------------
# Keys: named by id and check value, never written.


def key_check(key: bytes) -> str:
    """A check value of a key: HMAC-SHA256 of a fixed text under it, first 16 hex digits. It shows whether two key
    rings hold the same key and reveals nothing of the key."""
    return hmac.new(key, KEY_CHECK_TEXT, hashlib.sha256).hexdigest()[:16]


def _keyring() -> crypto.KeyRing:
    try:
        return crypto.keyring()
    except ImproperlyConfigured as exc:
        raise KeysMissing(f"{exc} 见 {GUIDE}。") from None


def keys_manifest(key_ids_in_use: list[str]) -> dict:
    """The manifest's "keys": the current field key's id, the ids of every field key the data is sealed with (and
    the current one), a check value of each the key ring holds, and one of the index key."""
    ring = _keyring()
    held = dict(ring.field_keys)
    current = ring.current[0]
    ids = sorted(set(key_ids_in_use) | {current})
    return {
        "current_field_key_id": current,
        "field_key_ids": ids,
        "field_key_checks": {kid: key_check(held[kid]) for kid in ids if kid in held},
        "index_key_check": key_check(ring.index_key),
    }


def key_problems(manifest: dict) -> list[str]:
    """What the current key ring lacks to read the archive: each field key id the data needs that it does not hold,
    or holds with another key; an index key other than the backup's."""
    keys = manifest.get("keys") or {}
    ring = _keyring()
    held = dict(ring.field_keys)
    checks = keys.get("field_key_checks") or {}
    problems = []
    for kid in keys.get("field_key_ids") or []:
        if kid not in held:
            problems.append(f"密钥环中没有字段密钥 {kid}")
        elif kid in checks and key_check(held[kid]) != checks[kid]:
            problems.append(f"字段密钥 {kid} 与备份时的不是同一把密钥")
    if keys.get("index_key_check") and key_check(ring.index_key) != keys["index_key_check"]:
        problems.append("索引密钥 DANGJIAN_INDEX_KEY 与备份时的不同")
    return problems


def require_keys(manifest: dict) -> None:
    """Refuse (KeysMissing) when the key ring cannot read the archive, saying where the keys go."""
    problems = key_problems(manifest)
    if problems:
        raise KeysMissing(
            "；".join(problems) + "。备份中的身份证号和手机号是加密存储的，没有备份时的密钥就无法读取，"
            "按号码查询和查重也会失效。请取出离线保管的、备份时所用的密钥，"
            "放入 DANGJIAN_FIELD_KEYS 和 DANGJIAN_INDEX_KEY "
            f"环境变量或 DANGJIAN_KEY_FILE 指向的密钥文件（默认 var/keys/field.keys），重启后再试；见 {GUIDE}。"
        )


def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) of every encrypted field of every installed model, history models included."""
    from dangjian.core.fields import EncryptedTextField

    found: set[tuple[str, str]] = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for model_field in model._meta.local_fields:
            if isinstance(model_field, EncryptedTextField) and model_field.column:
                found.add((model._meta.db_table, model_field.column))
    return sorted(found)


def _key_ids_in_use(cursor: Any, vendor: str, tables: dict[str, TableSum]) -> list[str]:
    """The key ids named by the tokens of every encrypted column (read through `cursor`, on the dumped snapshot)."""
    ids: set[str] = set()
    prefix = crypto.TOKEN_PREFIX + ":"
    start = len(prefix) + 1
    for table, column in encrypted_columns():
        if table not in tables:
            continue
        col = _quote(column)
        if vendor == "postgresql":
            kid = f"split_part({col}, ':', 2)"
        else:
            kid = f"substr({col}, {start}, instr(substr({col}, {start}), ':') - 1)"
        cursor.execute(f"SELECT DISTINCT {kid} FROM {_quote(table)} WHERE {col} LIKE '{prefix}%'")
        ids.update(row[0] for row in cursor.fetchall() if row[0])
    return sorted(ids)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------------------
# Table inventories: a row count and a checksum of each table's content.
#
# The checksum (against corruption and mistakes: whoever can change the dump can change the manifest too) is an MD5
# over the sorted MD5s of the table's rows (each row as text): the multiset of rows, so no
# primary key is needed and row order does not matter. It is computed in SQL on PostgreSQL (the row's text form
# under fixed session settings) and in Python on SQLite (the repr of the row's values); an inventory is compared
# only with one of the same vendor.

_PG_SESSION = (
    "SET TimeZone TO 'UTC'",
    "SET DateStyle TO 'ISO, MDY'",
    "SET IntervalStyle TO 'postgres'",
    "SET extra_float_digits TO 1",
    "SET bytea_output TO 'hex'",
)

_PG_TABLES = """
    SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END,
           format('%I.%I', n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1
"""


def postgres_inventory(cursor: Any) -> dict[str, TableSum]:
    """Row count and checksum of every table (schemas but the system's) seen by `cursor`'s transaction."""
    for statement in _PG_SESSION:
        cursor.execute(statement)
    cursor.execute(_PG_TABLES)
    tables = cursor.fetchall()
    found = {}
    for name, quoted in tables:
        cursor.execute(
            "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
            f"FROM (SELECT md5(dangjian_backup_row::text) AS h FROM {quoted} AS dangjian_backup_row) AS hashes"
        )
        rows, checksum = cursor.fetchone()
        found[name] = TableSum(rows=int(rows), checksum=checksum)
    return found


def sqlite_inventory(conn: sqlite3.Connection) -> dict[str, TableSum]:
    """Row count and checksum of every table of an SQLite database but its own (sqlite_*)."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY name"
        )
    ]
    found = {}
    for name in names:
        hashes = sorted(
            hashlib.md5(repr(tuple(row)).encode(), usedforsecurity=False).hexdigest()
            for row in conn.execute(f"SELECT * FROM {_quote(name)}")
        )
        checksum = hashlib.md5("".join(hashes).encode(), usedforsecurity=False).hexdigest()
        found[name] = TableSum(rows=len(hashes), checksum=checksum)
    return found


def _migrations(cursor: Any, tables: dict[str, TableSum]) -> dict[str, str]:
    """The latest applied migration of each app."""
    if "django_migrations" not in tables:
        return {}
    cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
    return {app: name for app, name in cursor.fetchall()}


# ---------------------------------------------------------------------------------------------------------
# PostgreSQL: pg_dump and pg_restore with the configured connection settings.

MISSING_TOOL = (
    "找不到 {tool}：PostgreSQL 数据库的备份、恢复和恢复演练需要 PostgreSQL 客户端工具 pg_dump 和 pg_restore"
    "（版本不低于数据库服务器）。Debian/Ubuntu 请安装：apt-get install -y postgresql-client；"
    "或用 DANGJIAN_PG_BIN_DIR 指定其所在目录。"
)


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program (DANGJIAN_PG_BIN_DIR first, then PATH); BackupError if missing."""
    bin_dir = getattr(settings, "DANGJIAN_PG_BIN_DIR", "") or os.environ.get("DANGJIAN_PG_BIN_DIR", "")
    path = shutil.which(name, path=bin_dir) if bin_dir else shutil.which(name)
    if not path:
        raise BackupError(MISSING_TOOL.format(tool=name))
    return path


def _pg_env(settings_dict: dict, dbname: str | None = None) -> dict[str, str]:
    """The environment that points a libpq program at the database (the password never on the command line)."""
    from django.db.backends.postgresql.client import DatabaseClient

    _, extra = DatabaseClient.settings_to_cmd_args_env(settings_dict, [])
    env = {**os.environ, **(extra or {})}
    for name, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if settings_dict.get(key):
            env[name] = str(settings_dict[key])
    env["PGDATABASE"] = dbname or settings_dict["NAME"]
    return env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    # A fixed program (pg_dump, pg_restore) and arguments built here; no shell.
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # nosec B603
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise BackupError(f"{what}失败（{Path(args[0]).name} 退出码 {done.returncode}）：{detail}")


def _pg_connect(settings_dict: dict, dbname: str | None = None) -> Any:
    """A new psycopg connection (not Django's) with the configured settings, to `dbname` if given."""
    wrapper = connections["default"].__class__(
        {**settings_dict, "NAME": dbname or settings_dict["NAME"]}, alias="backup"
    )
    return wrapper.Database.connect(**wrapper.get_connection_params())  # type: ignore[attr-defined]


def _isolation_repeatable_read() -> Any:
    import psycopg

    return psycopg.IsolationLevel.REPEATABLE_READ


def _dump_postgres(settings_dict: dict, path: Path) -> Snapshot:
    """pg_dump --format=custom of the configured database into `path`, and the inventory of the same snapshot."""
    pg_dump = pg_tool("pg_dump")
    conn = _pg_connect(settings_dict)
    try:
        conn.isolation_level = _isolation_repeatable_read()
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={path}"],
                _pg_env(settings_dict),
                "数据库导出（pg_dump）",
            )
            tables = postgres_inventory(cursor)
            return Snapshot(
                tables=tables,
                key_ids=_key_ids_in_use(cursor, "postgresql", tables),
                migrations=_migrations(cursor, tables),
            )
    finally:
        conn.rollback()
        conn.close()


# ---------------------------------------------------------------------------------------------------------
# SQLite: the online backup API.


def _sqlite_connection() -> sqlite3.Connection:
    """The raw connection of Django's default database (a file, or the tests' shared in-memory database)."""
    connection = connections["default"]
    connection.ensure_connection()
    return connection.connection


def _dump_sqlite(path: Path) -> Snapshot:
    """Copy the live SQLite database into `path` with the online backup API, and take the inventory of the copy."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    target = sqlite3.connect(path)
    try:
        _sqlite_connection().backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        tables = sqlite_inventory(target)
        cursor = target.cursor()
        return Snapshot(
            tables=tables,
            key_ids=_key_ids_in_use(cursor, "sqlite", tables),
            migrations=_migrations(cursor, tables),
        )
    finally:
        target.close()


# ---------------------------------------------------------------------------------------------------------
# Media files.


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _media_files(root: Path) -> list[str]:
    """The regular files under `root` (symbolic links are not followed), as sorted POSIX paths relative to it."""
    if not root.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in filenames:
            path = Path(dirpath) / filename
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while hashing what is read, so the manifest's hash is of the archived bytes."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _safe_media_name(name: str) -> str | None:
    """The relative path of an archive member under media/, or None when it would leave MEDIA_ROOT."""
    if not name.startswith(MEDIA_PREFIX):
        return None
    relative = PurePosixPath(name[len(MEDIA_PREFIX) :])
    if relative.is_absolute() or not relative.parts or any(part in ("..", "") for part in relative.parts):
        return None
    return relative.as_posix()


# ---------------------------------------------------------------------------------------------------------
# Backup.


def default_backup_dir() -> Path:
    """DANGJIAN_BACKUP_DIR (a setting, else the environment variable), else VAR_DIR/backups."""
    configured = getattr(settings, "DANGJIAN_BACKUP_DIR", "") or os.environ.get("DANGJIAN_BACKUP_DIR", "")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "backups"


def database_vendor() -> str:
    vendor = connections["default"].vendor
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(f"不支持备份 {vendor} 数据库：只支持 PostgreSQL 和 SQLite。")
    return vendor


def create_backup(
    out_dir: Path | str | None = None, *, gzip: bool = False, now: dt.datetime | None = None
) -> BackupResult:
    """Write one archive `dangjian-backup-YYYYmmdd-HHMMSS.tar` (`.tar.gz` with `gzip`; mode 0600) into `out_dir`
    (default DANGJIAN_BACKUP_DIR or VAR_DIR/backups, created mode 0700): the database dump, the media files and the
    manifest. The archive appears under its name only once complete."""
    vendor = database_vendor()
    directory = Path(out_dir) if out_dir else default_backup_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = timezone.localtime(now or timezone.now())
    final = directory / f"{ARCHIVE_PREFIX}{created:%Y%m%d-%H%M%S}.tar{'.gz' if gzip else ''}"
    if final.exists():
        raise BackupError(f"备份文件 {final} 已存在。")
    settings_dict = connections["default"].settings_dict
    partial = directory / f".{final.name}.partial"
    try:
        with tempfile.TemporaryDirectory(dir=directory, prefix=".dangjian-backup-") as work:
            dump = Path(work) / DATABASE_MEMBERS[vendor]
            snapshot = _dump_postgres(settings_dict, dump) if vendor == "postgresql" else _dump_sqlite(dump)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with (
                os.fdopen(fd, "wb") as handle,
                tarfile.open(fileobj=handle, mode="w:gz" if gzip else "w", format=tarfile.PAX_FORMAT) as tar,
            ):
                dump_hash = _add_file(tar, dump, DATABASE_MEMBERS[vendor])
                media = []
                root = media_root()
                for relative in _media_files(root):
                    path = root / relative
                    size = path.stat().st_size
                    media.append(
                        {"path": relative, "size": size, "sha256": _add_file(tar, path, MEDIA_PREFIX + relative)}
                    )
                manifest = {
                    "format": FORMAT,
                    "created_at": created.isoformat(),
                    "vendor": vendor,
                    "database": {"file": DATABASE_MEMBERS[vendor], "sha256": dump_hash},
                    "migrations": snapshot.migrations,
                    "keys": keys_manifest(snapshot.key_ids),
                    "tables": {name: {"rows": s.rows, "checksum": s.checksum} for name, s in snapshot.tables.items()},
                    "media": media,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode, info.mtime = len(data), 0o600, int(created.timestamp())
                tar.addfile(info, io.BytesIO(data))
            os.replace(partial, final)
    except OSError as exc:
        raise BackupError(f"写入备份失败：{exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path=final, size=final.stat().st_size, manifest=manifest)


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> str:
    """Add `path` as member `name` (mode 0600, no owner names); the SHA-256 of the bytes archived."""
    info = tar.gettarinfo(str(path), arcname=name)
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    with open(path, "rb") as handle:
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    return reader.digest.hexdigest()


# ---------------------------------------------------------------------------------------------------------
# Reading an archive.


class Archive(contextlib.AbstractContextManager):
    """An archive opened for reading: its manifest, checked members."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if not self.path.is_file():
            raise BackupError(f"找不到备份文件 {self.path}。")
        try:
            self.tar = tarfile.open(self.path, mode="r:*")  # noqa: SIM115 (closed by __exit__)
            member = self.tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            self.manifest = json.loads(member.read().decode("utf-8"))
        except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
            raise BackupError(f"{self.path} 不是党建云的备份文件，或已损坏（{exc}）。") from None
        if self.manifest.get("format") != FORMAT or self.manifest.get("vendor") not in DATABASE_MEMBERS:
            raise BackupError(f"{self.path} 的清单格式无法识别。")

    def __exit__(self, *exc_info) -> None:
        self.tar.close()

    @property
    def vendor(self) -> str:
        return self.manifest["vendor"]

    def require_vendor(self, vendor: str) -> None:
        if self.vendor != vendor:
            raise BackupError(
                f"这是 {VENDOR_LABELS[self.vendor]} 数据库的备份，而当前配置的是 {VENDOR_LABELS.get(vendor, vendor)}："
                "请在同类数据库上恢复（DATABASE_URL）。"
            )

    def extract_database(self, directory: Path) -> Path:
        """The dump, written into `directory` (mode 0600) and checked against the manifest's SHA-256."""
        name = self.manifest["database"]["file"]
        target = directory / Path(name).name
        source = self.tar.extractfile(name)
        if source is None:
            raise BackupError(f"备份中缺少数据库文件 {name}。")
        digest = hashlib.sha256()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                handle.write(chunk)
        if digest.hexdigest() != self.manifest["database"]["sha256"]:
            raise BackupError(f"备份中的数据库文件 {name} 与清单记录的校验值不符：备份已损坏或被改动。")
        return target

    def media_members(self) -> Iterator[tuple[str, tarfile.TarInfo]]:
        """(relative path, member) of each media file; BackupError on a member that would leave MEDIA_ROOT."""
        for member in self.tar.getmembers():
            if not member.name.startswith(MEDIA_PREFIX):
                continue
            relative = _safe_media_name(member.name)
            if relative is None or not member.isfile():
                raise BackupError(f"备份中的媒体文件 {member.name} 路径或类型不合法，拒绝处理。")
            yield relative, member

    def media_problems(self) -> tuple[int, list[str]]:
        """Check every media file against the manifest (present, size, SHA-256, nothing extra): count, problems."""
        expected = {item["path"]: item for item in self.manifest.get("media", [])}
        problems = []
        seen = set()
        for relative, member in self.media_members():
            seen.add(relative)
            item = expected.get(relative)
            if item is None:
                problems.append(f"媒体文件 {relative} 不在清单中")
                continue
            source = self.tar.extractfile(member)
            digest = hashlib.sha256()
            while source is not None and (chunk := source.read(_CHUNK)):
                digest.update(chunk)
            if member.size != item["size"] or digest.hexdigest() != item["sha256"]:
                problems.append(f"媒体文件 {relative} 的内容与清单记录的校验值不符")
        problems.extend(f"媒体文件 {path} 在清单中但备份里没有" for path in sorted(set(expected) - seen))
        return len(seen), problems


# ---------------------------------------------------------------------------------------------------------
# Restore.


def database_has_tables() -> bool:
    connection = connections["default"]
    with connection.cursor() as cursor:
        return bool(connection.introspection.table_names(cursor))


def restore_backup(archive_path: Path | str, *, replace: bool = False) -> RestoreResult:
    """Restore the database and the media files of an archive into the configured database and MEDIA_ROOT.

    Refuses an archive of the other vendor, one whose keys the key ring lacks (KeysMissing) and, unless `replace`,
    a database that already has tables (DatabaseNotEmpty). PostgreSQL: `pg_restore --clean --if-exists --no-owner`
    in one transaction (on any error nothing is changed). SQLite: the backup API copies the archived database over
    the configured one in one step; the server must be stopped. Media files are written back (0600, directories
    0700); files the backup does not have are left where they are and counted."""
    vendor = database_vendor()
    with Archive(archive_path) as archive:
        archive.require_vendor(vendor)
        require_keys(archive.manifest)
        if not replace and database_has_tables():
            raise DatabaseNotEmpty(
                "当前数据库不是空的：恢复会用备份替换其中的全部数据（备份之后的修改都会丢失）。"
                "确认后加 --yes 再运行；恢复前请先停止应用服务和后台任务。"
            )
        media_count, media_problems = archive.media_problems()
        if media_problems:
            raise BackupError("备份中的媒体文件有误，未作任何恢复：" + "；".join(media_problems[:5]))
        connection = connections["default"]
        with tempfile.TemporaryDirectory(prefix="dangjian-restore-") as work:
            dump = archive.extract_database(Path(work))
            if vendor == "postgresql":
                settings_dict = connection.settings_dict
                connection.close()
                _run(
                    [
                        pg_tool("pg_restore"),
                        "--clean",
                        "--if-exists",
                        "--no-owner",
                        "--single-transaction",
                        "--exit-on-error",
                        f"--dbname={settings_dict['NAME']}",
                        str(dump),
                    ],
                    _pg_env(settings_dict),
                    "数据库恢复（pg_restore）",
                )
            else:
                _restore_sqlite(dump)
            connection.close()
        left = _restore_media(archive)
    tables = archive.manifest["tables"]
    return RestoreResult(
        tables=len(tables),
        rows=sum(t["rows"] for t in tables.values()),
        media_files=media_count,
        media_left=left,
        pending_migrations=pending_migrations(),
    )


def _restore_sqlite(dump: Path) -> None:
    source = sqlite3.connect(dump)
    try:
        (result,) = source.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise BackupError(f"备份中的 SQLite 数据库未通过完整性检查：{result}")
        source.backup(_sqlite_connection())
    finally:
        source.close()


def _restore_media(archive: Archive) -> int:
    """Write the archive's media files under MEDIA_ROOT, each atomically; the number of other files left there."""
    root = media_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    restored = set()
    for relative, member in archive.media_members():
        target = root / relative
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        source = archive.tar.extractfile(member)
        if source is None:
            raise BackupError(f"无法读取备份中的媒体文件 {member.name}。")
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
        try:
            with os.fdopen(fd, "wb") as handle:
                shutil.copyfileobj(source, handle, _CHUNK)
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
        restored.add(relative)
    return len(set(_media_files(root)) - restored)


def pending_migrations() -> list[str]:
    """Migrations of this code the restored database has not applied ("app.name")."""
    from django.db.migrations.executor import MigrationExecutor

    connection = connections["default"]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


# ---------------------------------------------------------------------------------------------------------
# The restore drill.


@contextlib.contextmanager
def scratch_database(vendor: str, dump: Path) -> Iterator[Any]:
    """The dump restored into a scratch database, as a DB-API connection (closed and removed afterwards).

    PostgreSQL: CREATE DATABASE dangjian_drill_<random> (the configured role needs CREATEDB), pg_restore into it,
    DROP DATABASE at the end. SQLite: the extracted file itself, checked with PRAGMA integrity_check."""
    if vendor == "sqlite":
        conn = sqlite3.connect(dump)
        try:
            (result,) = conn.execute("PRAGMA integrity_check").fetchone()
            if result != "ok":
                raise BackupError(f"备份中的 SQLite 数据库未通过完整性检查：{result}")
            yield conn
        finally:
            conn.close()
        return
    pg_restore = pg_tool("pg_restore")
    settings_dict = connections["default"].settings_dict
    name = f"dangjian_drill_{secrets.token_hex(6)}"
    admin = _pg_connect(settings_dict)
    admin.autocommit = True
    try:
        admin.execute(f"CREATE DATABASE {_quote(name)} TEMPLATE template0")
        try:
            _run(
                [pg_restore, "--no-owner", "--no-acl", "--exit-on-error", f"--dbname={name}", str(dump)],
                _pg_env(settings_dict, name),
                "演练数据库恢复（pg_restore）",
            )
            conn = _pg_connect(settings_dict, name)
            try:
                yield conn
            finally:
                conn.close()
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        admin.close()


def inventory(conn: Any, vendor: str) -> dict[str, TableSum]:
    if vendor == "sqlite":
        return sqlite_inventory(conn)
    with conn.cursor() as cursor:
        return postgres_inventory(cursor)


def restore_drill(archive_path: Path | str) -> DrillReport:
    """Restore an archive into a scratch database and compare it with its manifest: every table's row count and
    checksum, every media file's SHA-256, and the key ring against the keys the data needs. The report lists each
    table; `ok` only when nothing differs."""
    vendor = database_vendor()
    report = DrillReport()
    with Archive(archive_path) as archive:
        archive.require_vendor(vendor)
        report.key_problems = key_problems(archive.manifest)
        report.media_files, report.media_problems = archive.media_problems()
        expected = {name: TableSum(t["rows"], t["checksum"]) for name, t in archive.manifest["tables"].items()}
        with tempfile.TemporaryDirectory(prefix="dangjian-drill-") as work:
            try:
                dump = archive.extract_database(Path(work))
            except BackupError as exc:
                report.other_problems.append(str(exc))
                return report
            with scratch_database(vendor, dump) as conn:
                found = inventory(conn, vendor)
    for name in sorted(set(expected) | set(found)):
        report.rows.append(DrillRow(table=name, expected=expected.get(name), found=found.get(name)))
    return report


# ---------------------------------------------------------------------------------------------------------
# The audit record of a restore and of a drill.


def os_user() -> str:
    """The server account that ran the command (the operator's login on the server)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container): the uid itself
        return str(os.getuid())


def record_operation(*, action: str, archive: Path | str, actor=None, detail: dict, passed: bool = True) -> None:
    """Write the audit record of a restore ("restore") or a drill ("restore_drill") in the configured database —
    for a restore, the restored one, so the trail it carries on from says it was restored: the archive's file name,
    the --as user (`actor`, else nobody), the server account and the command's figures (`core.signals
    .operation_event`, which the audit app records). Raises ImproperlyConfigured if nothing recorded it."""
    responses = operation_event.send(
        sender=record_operation,
        action=action,
        actor=actor,
        object_repr=Path(archive).name,
        detail={"os_user": os_user(), "passed": passed, **detail},
        result="success" if passed else "failure",
    )
    if not responses:
        raise ImproperlyConfigured("恢复未能记入审计日志：未安装审计应用（dangjian.audit）。")


# ---------------------------------------------------------------------------------------------------------
# Output helpers for the commands.


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 0)
