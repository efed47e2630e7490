"""The commands' base (core.commands): --as with one default, the year checks and their messages, the organization
lookup, the run's request context and the audit record of an export."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dangjian.accounts.tests.factories import UserFactory
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.core import request_context
from dangjian.core.commands import DangjianCommand
from dangjian.orgs.models import Organization

pytestmark = pytest.mark.django_db


class Probe(DangjianCommand):
    """Runs `check(self, options)` inside the command and keeps what it returns."""

    def __init__(self, check, **kwargs):
        super().__init__(**kwargs)
        self.check = check
        self.seen = None

    def add_arguments(self, parser):
        self.add_as_argument(parser)

    def handle(self, *args, **options):
        self.seen = self.check(self, options)


def run(check, *args):
    command = Probe(check)
    call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO())
    return command.seen


def test_without_as_the_run_acts_as_the_system_in_its_own_request_context():
    def check(command, options):
        run_as = command.run_as(options["as_user"])
        return run_as, request_context.current()

    run_as, context = run(check)
    assert run_as.user is None and run_as.access.system and run_as.by is run_as.access and run_as.label == "系统"
    assert context.path == "manage.py test_commands" and context.request_id and context.user is None
    assert request_context.current() is None  # unbound after the run


def test_as_names_the_user_in_the_context_and_the_scope():
    user = UserFactory(username="zhang")

    def check(command, options):
        return command.run_as(options["as_user"]), request_context.current()

    run_as, context = run(check, "--as", "zhang")
    assert (run_as.user, run_as.by, run_as.label, context.user) == (user, user, "用户“zhang”", user)


@pytest.mark.parametrize(
    "superuser_scope, messages",
    [
        (False, ("找不到用户“nobody”，或该账号已停用。", "找不到用户“gone”，或该账号已停用。")),
        (True, ("找不到用户“nobody”。", "用户“gone”已停用。")),
    ],
)
def test_an_unknown_or_deactivated_user_is_refused(superuser_scope, messages):
    UserFactory(username="gone", is_active=False)
    for username, message in zip(("nobody", "gone"), messages, strict=True):
        with pytest.raises(CommandError) as error:
            run(lambda command, options: command.run_as(options["as_user"], superuser_scope=superuser_scope),
                "--as", username)  # fmt: skip
        assert str(error.value) == message


def test_a_superuser_acts_with_the_system_access_where_asked():
    UserFactory(username="root", is_superuser=True)
    run_as = run(lambda command, options: command.run_as(options["as_user"], superuser_scope=True), "--as", "root")
    assert run_as.access.system and run_as.user.username == "root"


def test_the_superuser_default_is_said_on_stderr():
    out = io.StringIO()
    command = Probe(lambda command, options: command.run_as_or_superuser(None, doing="导出"))
    call_command(command, stdout=io.StringIO(), stderr=out)
    assert command.seen.user is None and command.seen.access.system
    assert out.getvalue() == "未指定 --as，且没有超级用户：以系统身份导出（全部范围）。\n"
    root = UserFactory(username="root", is_superuser=True)
    out = io.StringIO()
    call_command(command, stdout=io.StringIO(), stderr=out)
    assert command.seen.user == root and command.seen.label == "超级用户“root”"
    assert out.getvalue() == "未指定 --as：以超级用户“root”的身份导出（全部范围）。\n"


def test_year_checks_keep_each_commands_message():
    assert DangjianCommand.year_in_range(2024) == 2024
    with pytest.raises(CommandError, match=r"^年度应为2000到2100之间的四位数字。$"):
        DangjianCommand.year_in_range(1999)
    ask = {"missing": "请用 --year 指定年度。", "invalid": "年度“{raw}”不正确：应为{minimum}到{maximum}。"}
    assert DangjianCommand.year_from(" 2024 ", **ask) == 2024
    for raw, message in [
        (None, "请用 --year 指定年度。"),
        (" ", "请用 --year 指定年度。"),
        ("abc", "年度“abc”不正确：应为2000到2100。"),
    ]:
        with pytest.raises(CommandError) as error:
            DangjianCommand.year_from(raw, **ask)
        assert str(error.value) == message
    with pytest.raises(CommandError, match=r"^超出$"):
        DangjianCommand.year_from("1999", out_of_range="超出", **ask)


def test_an_unknown_code_and_one_outside_the_scope_get_one_message():
    with pytest.raises(CommandError, match=r"^找不到党组织编码“X1”，或该组织不在您的管理范围内。$"):
        DangjianCommand.organization(Organization.objects.all(), " X1 ")
    with pytest.raises(CommandError, match=r"^找不到党组织编码“”。$"):
        DangjianCommand.organization(Organization.objects.all(), None, message="找不到党组织编码“{code}”。")


def test_an_export_is_recorded_once_with_the_command_and_the_runs_request_id():
    user = UserFactory(username="li")

    def check(command, options):
        run_as = command.run_as(options["as_user"])
        command.record_export(
            what="测试导出", model=Organization, params={"year": 2024}, rows=3, run=run_as, format="csv"
        )
        return request_context.current().request_id

    request_id = run(check, "--as", "li")
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor_id, event.object_repr, event.object_type, event.request_id) == (
        user.pk,
        "测试导出",
        "orgs.organization",
        request_id,
    )
    assert (event.detail["via"], event.detail["command"], event.detail["rows"]) == ("command", "test_commands", 3)
