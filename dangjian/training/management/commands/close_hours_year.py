"""python manage.py close_hours_year --org CODE --year YYYY [--as USERNAME] [--note TEXT]
python manage.py close_hours_year --org CODE --year YYYY --reopen --reason TEXT [--as USERNAME]
python manage.py close_hours_year --list [--year YYYY]

Closes a year's hours for an organization's subtree once its figures are signed (学时年度关账), or reopens it with a
reason (`training.services.year_close`). Without --as it runs as the system."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError
from django.utils import timezone

from dangjian.core.commands import DangjianCommand
from dangjian.orgs.models import Organization
from dangjian.training.models import HoursYearClose
from dangjian.training.selectors.compliance import YEAR_MAX, YEAR_MIN
from dangjian.training.services.year_close import hours_year_close, hours_year_reopen


def _message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "；".join(m for messages in error.message_dict.values() for m in messages)
    return "；".join(error.messages)


class Command(DangjianCommand):
    help = (
        "学时年度关账：关账后不能再登记、冲销或更正该组织（含下级）党员该年度的学时；--reopen 重新开账（须填写原因）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="党组织编码：关账范围为该组织及其下级")
        parser.add_argument("--year", help="年度，如 2025")
        parser.add_argument("--note", default="", help="关账说明（可选）")
        parser.add_argument("--reopen", action="store_true", help="重新开账")
        parser.add_argument("--reason", default="", help="重新开账的原因（--reopen 时必填）")
        parser.add_argument("--list", dest="list_closures", action="store_true", help="列出已关账的组织和年度")
        self.add_as_argument(parser, help="以该用户的身份和管理范围操作")

    def handle(
        self, *args, org=None, year=None, note="", reopen=False, reason="", list_closures=False, as_user=None, **options
    ):
        if list_closures:
            closures = HoursYearClose.objects.select_related("organization", "closed_by").order_by(
                "year", "organization__path"
            )
            if year:
                closures = closures.filter(year=self._year(year))
            self.stdout.write("年度,组织编码,组织名称,关账时间,关账人,说明")
            for c in closures:
                who = c.closed_by.get_full_name() or c.closed_by.username if c.closed_by else "系统"
                when = f"{timezone.localtime(c.created_at):%Y-%m-%d %H:%M}"
                self.stdout.write(f"{c.year},{c.organization.code},{c.organization.name},{when},{who},{c.note}")
            return
        if not org:
            raise CommandError("请用 --org 指定党组织编码。")
        year = self._year(year)
        organization = Organization.objects.filter(code=org.strip()).first()
        if organization is None:
            raise CommandError(f"找不到党组织编码“{org}”。")
        by = self.run_as(as_user).by
        try:
            if reopen:
                hours_year_reopen(by=by, org=organization, year=year, reason=reason)
                self.stdout.write(f"已重新开账：{organization.name}（{organization.code}）{year}年度学时。")
            else:
                hours_year_close(by=by, org=organization, year=year, note=note)
                self.stdout.write(f"已关账：{organization.name}（{organization.code}）{year}年度学时。")
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError(_message(error)) from None

    def _year(self, value) -> int:
        return self.year_from(
            value,
            missing="请用 --year 指定年度。",
            invalid="年度“{raw}”不正确，应为四位数字。",
            out_of_range="年度应为{minimum}到{maximum}之间的四位数字。",
            minimum=YEAR_MIN,
            maximum=YEAR_MAX,
            digits_only=False,
        )
