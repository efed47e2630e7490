"""`manage.py demo_logins`: print the demo accounts that exist, with their roles, scopes and password."""

from django.core.management.base import BaseCommand

from dangjian.accounts.models import User
from dangjian.accounts.roles import Role
from dangjian.core.exports import display_width
from dangjian.demo.builder import DEMO_PASSWORD, DEMO_USERNAMES
from dangjian.orgs.models import Organization

DEFAULT_ADDRESS = "127.0.0.1:8000"


def site_url(address: str) -> str:
    """The address the server will answer on, as a browser URL: "0.0.0.0:8000" and ":8000" are opened locally."""
    host, _, port = (address or DEFAULT_ADDRESS).strip().rpartition(":")
    if not host or host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port or '8000'}/"


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def scope_text(orgs: list[Organization]) -> str:
    """The granted organizations' names; below the root's children, with the top-level body they belong to."""
    if not orgs:
        return "全局（不含党员数据）"
    names = "、".join(org.name for org in orgs)
    tops = {org.path[: 2 * Organization.steplen] for org in orgs if org.depth > 2}
    if len(tops) == 1:
        top = Organization.objects.dangerously_all().filter(path=tops.pop()).first()
        if top is not None:
            names += f"（{top.name}）"
    return names


class Command(BaseCommand):
    help = "列出演示账号：用户名、角色、授权范围和初始密码。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--address", default=DEFAULT_ADDRESS, help="服务地址（与 runserver 的地址相同），默认 127.0.0.1:8000"
        )

    def handle(self, *args, address=DEFAULT_ADDRESS, **options):
        users = {
            u.username: u
            for u in User.objects.filter(username__in=DEMO_USERNAMES).prefetch_related("role_assignments__organization")
        }
        if not users:
            self.stdout.write("没有演示账号（演示数据未加载）。加载：python manage.py seed_demo --scale small")
            return
        rows = [("用户名", "姓名", "角色", "密码", "授权范围")]
        for username in DEMO_USERNAMES:
            user = users.get(username)
            if user is None:
                continue
            grants = sorted(user.role_assignments.all(), key=lambda a: (a.role, a.organization_id or 0))
            roles = "、".join(dict.fromkeys(Role(a.role).label for a in grants)) or "（无）"
            scopes = scope_text([a.organization for a in grants if a.organization_id])
            rows.append((username, user.full_name, roles, DEMO_PASSWORD, scopes))
        widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for i, row in enumerate(rows):
            self.stdout.write("  ".join(pad(cell, w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
            if i == 0:
                self.stdout.write("  ".join("-" * w for w in [*widths, display_width(row[-1])]))
        self.stdout.write(f"\n演示账号的初始密码均为 {DEMO_PASSWORD}。请在浏览器打开 {site_url(address)} 登录。")
