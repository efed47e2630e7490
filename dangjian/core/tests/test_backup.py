"""Backups (core.backup; `manage.py backup`, `restore`, `restore_drill`): an archive restores and passes its drill on
both SQLite and PostgreSQL, a tampered archive fails the drill, a restore without the backup's keys is refused, the
manifest holds no key and no clear ID number, media files come back.

The tests are transactional (pg_dump sees only committed rows) and few: each builds a tiny world (two
organizations, one member, one uploaded file) and makes one archive."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
import tarfile
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from dangjian.core import backup, crypto
from dangjian.members.models import Member
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.models import Organization
from dangjian.orgs.tests.factories import OrganizationFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")),
        reason="pg_dump/pg_restore not installed (apt-get install -y postgresql-client): PostgreSQL backups need them",
    ),
]

NUMBER = "11010519790504001X"
PHONE = "13912345678"
EVIDENCE = "evidence/2024/证明材料.pdf"
EVIDENCE_BYTES = b"%PDF-1.4 evidence " + bytes(range(256))


@pytest.fixture
def media(settings, tmp_path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    (root / EVIDENCE).parent.mkdir(parents=True)
    (root / EVIDENCE).write_bytes(EVIDENCE_BYTES)
    return root


@pytest.fixture
def tiny_world(media):
    org = OrganizationFactory(code="BK01", name="备份测试党支部")
    OrganizationFactory(code="BK02", name="备份测试第二党支部")
    return MemberFactory(organization=org, name="备份甲", id_number=NUMBER, phone=PHONE)


@pytest.fixture
def archive(tiny_world, tmp_path) -> Path:
    out = io.StringIO()
    call_command("backup", "--out", str(tmp_path / "backups"), stdout=out)
    (path,) = (tmp_path / "backups").glob("dangjian-backup-*.tar")
    assert str(path) in out.getvalue()
    return path


def run(name: str, *args) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def manifest_of(path: Path) -> dict:
    with tarfile.open(path) as tar:
        member = tar.extractfile(backup.MANIFEST)
        assert member is not None
        return json.loads(member.read())


def rewrite_manifest(path: Path, change) -> Path:
    """A copy of the archive with its manifest changed by `change(manifest)`."""
    copy = path.with_name("tampered-" + path.name)
    with tarfile.open(path) as source, tarfile.open(copy, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == backup.MANIFEST:
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return copy


@contextlib.contextmanager
def other_keys(*, same_kid: bool = False):
    """A key ring without the backup's keys: another kid, or (same_kid) the same kid holding another key."""
    kid = crypto.keyring().current[0] if same_kid else "k9"
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    index = base64.b64encode(secrets.token_bytes(32)).decode()
    with mock.patch.dict(os.environ, {"DANGJIAN_FIELD_KEYS": f"{kid}:{key}", "DANGJIAN_INDEX_KEY": index}):
        crypto.keyring.cache_clear()
        try:
            yield
        finally:
            crypto.keyring.cache_clear()
    crypto.keyring.cache_clear()


# ---------------------------------------------------------------------------------------------------------


def test_backup_drill_and_restore_round_trip_the_database_and_the_media(archive, media):
    assert archive.stat().st_mode & 0o777 == 0o600
    manifest = manifest_of(archive)
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"]["members_member"]["rows"] == 1
    assert manifest["migrations"]["members"]
    assert manifest["media"] == [
        {"path": EVIDENCE, "size": len(EVIDENCE_BYTES), "sha256": hashlib.sha256(EVIDENCE_BYTES).hexdigest()}
    ]

    report = run("restore_drill", str(archive))
    assert "恢复演练通过" in report
    assert "members_member" in report and "1/1" in report

    # Changes after the backup: a member gone, an organization added, the upload deleted.
    Member.objects.dangerously_all().delete()
    OrganizationFactory(code="BK03", name="备份之后的党支部")
    (media / EVIDENCE).unlink()
    (media / "later.txt").write_text("not in the backup")

    with pytest.raises(CommandError, match="--yes"):
        run("restore", str(archive))
    assert not Member.objects.dangerously_all().exists()  # refused: nothing changed

    out = run("restore", str(archive), "--yes")
    assert "已从" in out and "1 个备份中没有的文件" in out
    member = Member.objects.dangerously_all().get()
    assert (member.name, member.id_number, member.phone) == ("备份甲", NUMBER, PHONE)
    assert set(Organization.objects.values_list("code", flat=True)) >= {"BK01", "BK02"}
    assert not Organization.objects.filter(code="BK03").exists()
    assert (media / EVIDENCE).read_bytes() == EVIDENCE_BYTES
    assert (media / EVIDENCE).stat().st_mode & 0o777 == 0o600


def test_a_row_missing_from_the_restore_fails_the_drill(archive, monkeypatch):
    real = backup.scratch_database

    @contextlib.contextmanager
    def losing_a_row(vendor, dump):
        with real(vendor, dump) as conn:
            conn.execute("DELETE FROM django_migrations WHERE id = (SELECT min(id) FROM django_migrations)")
            yield conn

    monkeypatch.setattr(backup, "scratch_database", losing_a_row)
    out = io.StringIO()
    with pytest.raises(CommandError, match="恢复演练未通过：1 张表不符"):
        call_command("restore_drill", str(archive), stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("django_migrations"))
    assert "不一致" in line and "不符" in line


def test_edited_manifest_counts_or_a_changed_media_file_fail_the_drill(archive):
    def edit(manifest):
        manifest["tables"]["orgs_organization"]["rows"] += 1
        manifest["media"][0]["sha256"] = "0" * 64

    out = io.StringIO()
    with pytest.raises(CommandError, match="1 张表不符，1 个媒体文件问题"):
        call_command("restore_drill", str(rewrite_manifest(archive, edit)), stdout=out)
    assert "orgs_organization" in out.getvalue() and "3/2" in out.getvalue()


def test_an_archive_is_not_restored_without_its_keys(archive):
    for same_kid in (False, True):
        with other_keys(same_kid=same_kid):
            with pytest.raises(CommandError, match="没有备份时的密钥就无法读取") as refused:
                run("restore", str(archive), "--yes")
            assert "DANGJIAN_FIELD_KEYS" in str(refused.value) and "operator-guide" in str(refused.value)
            with pytest.raises(CommandError, match="2 个密钥问题"):
                run("restore_drill", str(archive))
    assert Member.objects.dangerously_all().get().id_number == NUMBER  # nothing was restored


def test_the_manifest_holds_no_key_and_no_clear_id_number(archive):
    text = json.dumps(manifest_of(archive), ensure_ascii=False)
    ring = crypto.keyring()
    for key in [key for _, key in ring.field_keys] + [ring.index_key]:
        assert base64.b64encode(key).decode() not in text
        assert key.hex() not in text
    assert NUMBER not in text and PHONE not in text
    keys = manifest_of(archive)["keys"]
    assert keys["current_field_key_id"] == ring.current[0]
    assert keys["field_key_ids"] == [ring.current[0]]
    if connection.vendor == "sqlite":  # the custom-format dump is compressed: only the SQLite copy can be searched
        raw = archive.read_bytes()
        assert NUMBER.encode() not in raw and PHONE.encode() not in raw


def test_a_missing_postgresql_tool_is_named_with_how_to_install_it(monkeypatch, tiny_world, tmp_path):
    monkeypatch.setattr(backup.shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(backup.BackupError, match=r"找不到 pg_dump.*apt-get install -y postgresql-client"):
        backup.pg_tool("pg_dump")
    if connection.vendor == "postgresql":
        with pytest.raises(CommandError, match="备份失败：找不到 pg_dump"):
            run("backup", "--out", str(tmp_path))
        assert not list(tmp_path.glob("*.tar")) and not list(tmp_path.glob(".*partial"))


def test_a_compressed_archive_passes_its_drill(tiny_world, tmp_path):
    out = run("backup", "--gzip", "--out", str(tmp_path))
    (path,) = tmp_path.glob("dangjian-backup-*.tar.gz")
    assert str(path) in out
    assert "恢复演练通过" in run("restore_drill", str(path))
