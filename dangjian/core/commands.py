"""The base of the report, import and export commands: who a run acts as, the year it is about, the organization it
covers, the request context the audit trail reads, and the audit record of every export.

    class Command(DangjianCommand):
        def add_arguments(self, parser):
            parser.add_argument("--year", type=int, required=True)
            parser.add_argument("--org", required=True)
            self.add_as_argument(parser)

        def handle(self, *args, year, org, as_user=None, **options):
            year = self.year_in_range(year)
            run = self.run_as(as_user)                      # the --as user, or the system access
            organization = self.organization(report_organizations(run.by), org)
            rows = write_csv(self.stdout, HEADERS, lines)
            self.record_export(what="…", model=Member, params={...}, rows=rows, run=run, format="csv")

`--as USERNAME`: the run acts with that user's scope and names them in the audit trail and as the author of the
history rows (through the request context); without it the run acts with the system access and names nobody (a
command may instead default to the first active superuser, as the member import and export do). An unknown user and
a deactivated one are refused. Every run is bound to a request context (its own request id, the path
`manage.py NAME`, the --as user once known), as a page's request is by the middleware (`core.request_context`).
Messages are the commands' Chinese ones; see docs/development.md ("Layout") for the kit.

Layering: who a run acts as is an `accounts.access.Access`, so `run_as` imports accounts at run time, inside the
function, the one place this module reaches above `core` (as the schools → training bend in docs/development.md).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dangjian.core import request_context
from dangjian.core.exports import record_export

YEAR_MIN, YEAR_MAX = 2000, 2100
YEAR_RANGE_MESSAGE = "年度应为{minimum}到{maximum}之间的四位数字。"
ORG_NOT_FOUND = "找不到党组织编码“{code}”，或该组织不在您的管理范围内。"
USER_NOT_FOUND = "找不到用户“{username}”。"
USER_INACTIVE = "用户“{username}”已停用。"
USER_NOT_FOUND_OR_INACTIVE = "找不到用户“{username}”，或该账号已停用。"


@dataclass(frozen=True)
class RunAs:
    """Who a command run acts as."""

    user: object | None  # the --as user (or the default superuser); None: the system
    access: object  # the scope the run acts with: an Access
    label: str = "系统"  # how messages name them: 用户“…”, 超级用户“…”, 系统

    @property
    def by(self):
        """What a selector or service takes as `by`: the user, or the system access."""
        return self.user if self.user is not None else self.access


class DangjianCommand(BaseCommand):
    """A management command bound to a request context, with the shared argument checks (see the module)."""

    # What --as means for this command (its help text).
    as_help = "以该用户的管理范围生成报表"

    @property
    def command_name(self) -> str:
        return type(self).__module__.rpartition(".")[2]

    def execute(self, *args, **options):
        with contextlib.ExitStack() as stack:
            self._contexts = stack
            context = request_context.RequestContext(
                request_id=request_context.new_request_id(), path=f"manage.py {self.command_name}"
            )
            stack.enter_context(request_context.bind(context))
            return super().execute(*args, **options)

    def _bind_user(self, user) -> None:
        """Name `user` in the run's request context from here on (the audit trail and history rows read it)."""
        contexts = getattr(self, "_contexts", None)
        current = request_context.current()
        if contexts is not None and current is not None and user is not None:
            contexts.enter_context(request_context.bind(replace(current, user=user)))

    # -- --as ------------------------------------------------------------------------------------------

    def add_as_argument(self, parser, help: str | None = None) -> None:
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help=help or self.as_help)

    def run_as(self, username: str | None, *, superuser_scope: bool = False) -> RunAs:
        """The --as user and their access; without --as, the system access and nobody.

        `superuser_scope`: a superuser (the emergency account) acts with the system access, and an unknown and a
        deactivated user get a message each; otherwise both get one message and the user acts with their own
        scope."""
        # At run time: accounts builds on core (the one place core reaches up; see the module's docstring).
        from dangjian.accounts.access import Access, access_for

        if not username:
            return RunAs(user=None, access=Access.system_access())
        users = get_user_model().objects
        if superuser_scope:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(USER_NOT_FOUND.format(username=username))
            if not user.is_active:
                raise CommandError(USER_INACTIVE.format(username=username))
            access = Access.system_access() if user.is_superuser else access_for(user)
        else:
            user = users.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(USER_NOT_FOUND_OR_INACTIVE.format(username=username))
            access = access_for(user)
        self._bind_user(user)
        return RunAs(user=user, access=access, label=f"用户“{username}”")

    def run_as_or_superuser(self, username: str | None, *, doing: str) -> RunAs:
        """--as as `run_as(superuser_scope=True)`; without it the first active superuser, else the system, both
        with the system access and said on stderr (`doing`: 导入, 导出)."""
        from dangjian.accounts.access import Access

        if username:
            return self.run_as(username, superuser_scope=True)
        user = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is not None:
            self.stderr.write(f"未指定 --as：以超级用户“{user.get_username()}”的身份{doing}（全部范围）。")
            self._bind_user(user)
            return RunAs(user=user, access=Access.system_access(), label=f"超级用户“{user.get_username()}”")
        self.stderr.write(f"未指定 --as，且没有超级用户：以系统身份{doing}（全部范围）。")
        return RunAs(user=None, access=Access.system_access())

    # -- years -----------------------------------------------------------------------------------------

    @staticmethod
    def year_in_range(year: int, *, minimum: int = YEAR_MIN, maximum: int = YEAR_MAX) -> int:
        """A year argparse read as a number, within range."""
        if not minimum <= year <= maximum:
            raise CommandError(YEAR_RANGE_MESSAGE.format(minimum=minimum, maximum=maximum))
        return year

    @staticmethod
    def year_from(
        raw,
        *,
        missing: str,
        invalid: str,
        out_of_range: str | None = None,
        minimum: int = YEAR_MIN,
        maximum: int = YEAR_MAX,
        digits_only: bool = True,
    ) -> int:
        """A year given as text: `missing` when absent, `invalid` ({raw}: the text given) when it is not a number
        (`digits_only`: anything but digits; else what int() refuses), `out_of_range` (default: `invalid`) when
        outside [minimum, maximum]."""
        if raw is None or not str(raw).strip():
            raise CommandError(missing)
        text = str(raw).strip()
        if digits_only and not text.isdigit():
            raise CommandError(invalid.format(raw=text, minimum=minimum, maximum=maximum))
        try:
            year = int(text)
        except ValueError:
            raise CommandError(invalid.format(raw=raw, minimum=minimum, maximum=maximum)) from None
        if not minimum <= year <= maximum:
            message = out_of_range if out_of_range is not None else invalid
            raise CommandError(message.format(raw=text, minimum=minimum, maximum=maximum))
        return year

    # -- organizations ---------------------------------------------------------------------------------

    @staticmethod
    def organization(queryset, code: str | None, *, message: str = ORG_NOT_FOUND):
        """The organization of `queryset` (the run's scope) with this code; an unknown code and one outside the
        scope get the same `message` ("{code}" in it: the code given, trimmed)."""
        code = (code or "").strip()
        found = queryset.filter(code=code).first() if code else None
        if found is None:
            raise CommandError(message.replace("{code}", code))
        return found

    # -- the audit record ------------------------------------------------------------------------------

    def record_export(
        self, *, what: str, model=None, params=None, rows=None, run: RunAs | None = None, actor=None, **extra
    ) -> None:
        """The run's export in the audit trail (`core.exports.record_export`, via "command"), naming the command
        and the --as user (`run.user`, or `actor`)."""
        record_export(
            what=what,
            object_type=model._meta.label_lower if model is not None else "",
            params=params,
            rows=rows,
            via="command",
            actor=run.user if run is not None else actor,
            command=self.command_name,
            **extra,
        )
