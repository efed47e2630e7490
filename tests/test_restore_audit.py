"""Restores are audited (core.backup.record_operation; docs/operator-guide.md, "Backups"): `manage.py restore` writes
its record into the restored database once the restore is done, and `restore_drill` into the current one, each naming
the archive, the --as user (an account of the restored database) and the server account that ran it.

Transactional, as the backup tests are (pg_dump sees only committed rows); on SQLite and PostgreSQL."""

from __future__ import annotations

import getpass
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dangjian.accounts.tests.factories import UserFactory
from dangjian.audit.models import AuditAction, AuditEvent, AuditResult
from dangjian.audit.selectors import describe
from dangjian.core import backup
from dangjian.core.tests.test_backup import media, pytestmark, rewrite_manifest, tiny_world  # noqa: F401 (fixtures)

OPERATOR = "restore_operator"


@pytest.fixture
def operator(tiny_world):  # noqa: F811 (the fixture imported above)
    return UserFactory(username=OPERATOR, full_name="运维值班员", is_superuser=True)


@pytest.fixture
def archive(operator, tmp_path) -> Path:
    call_command("backup", "--out", str(tmp_path / "backups"), stdout=io.StringIO())
    (path,) = (tmp_path / "backups").glob("dangjian-backup-*.tar")
    return path


def run(name: str, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_restore_is_recorded_in_the_restored_database_with_the_as_user_and_the_server_account(archive):
    # Written after the backup: the restore replaces it, so the trail goes on from the backup's moment.
    UserFactory(username="after_backup")
    out, _ = run("restore", str(archive), "--yes", "--as", OPERATOR)
    assert "已在审计日志中记录本次恢复" in out
    (event,) = AuditEvent.objects.filter(action=AuditAction.RESTORE)
    assert (event.actor_username, event.result, event.object_repr) == (OPERATOR, AuditResult.SUCCESS, archive.name)
    assert event.detail["os_user"] == getpass.getuser() == backup.os_user()
    assert event.detail["as"] == OPERATOR and event.detail["tables"] > 0 and event.detail["rows"] > 0
    (line,) = describe([event])
    assert f"从备份“{archive.name}”恢复了数据库（服务器用户 {getpass.getuser()}，通过）" in line.sentence
    assert "运维值班员" in line.sentence


def test_a_restore_without_as_names_the_server_account(archive):
    run("restore", str(archive), "--yes")
    (event,) = AuditEvent.objects.filter(action=AuditAction.RESTORE)
    assert event.actor_id is None and event.detail["os_user"] == getpass.getuser() and event.detail["as"] == ""


def test_an_as_user_the_restored_database_lacks_is_said_and_the_restore_still_recorded(archive):
    out, err = run("restore", str(archive), "--yes", "--as", "nobody_here")
    assert "已从" in out and "找不到用户“nobody_here”" in err and "只记服务器用户" in err
    (event,) = AuditEvent.objects.filter(action=AuditAction.RESTORE)
    assert event.actor_id is None and event.detail["as"] == "nobody_here"


def test_a_refused_restore_records_nothing(archive):
    with pytest.raises(CommandError, match="--yes"):
        run("restore", str(archive), "--as", OPERATOR)
    assert not AuditEvent.objects.filter(action=AuditAction.RESTORE).exists()


def test_a_drill_is_recorded_passed_or_not(archive):
    out, _ = run("restore_drill", str(archive), "--as", OPERATOR)
    assert "恢复演练通过" in out
    (event,) = AuditEvent.objects.filter(action=AuditAction.RESTORE_DRILL)
    assert (event.actor_username, event.result, event.detail["passed"]) == (OPERATOR, AuditResult.SUCCESS, True)
    assert event.detail["os_user"] == getpass.getuser() and event.detail["tables_failed"] == 0

    def one_row_more(manifest):
        manifest["tables"]["members_member"]["rows"] += 1

    tampered = rewrite_manifest(archive, one_row_more)
    with pytest.raises(CommandError, match="恢复演练未通过"):
        run("restore_drill", str(tampered))
    failed = AuditEvent.objects.filter(action=AuditAction.RESTORE_DRILL, object_repr=tampered.name).get()
    assert (failed.result, failed.detail["passed"], failed.detail["tables_failed"]) == (AuditResult.FAILURE, False, 1)
    assert "未通过" in describe([failed])[0].sentence


def test_a_drill_as_an_unknown_user_is_refused_before_it_runs(archive):
    with pytest.raises(CommandError, match="找不到用户"):
        run("restore_drill", str(archive), "--as", "nobody_here")
    assert not AuditEvent.objects.filter(action=AuditAction.RESTORE_DRILL).exists()
