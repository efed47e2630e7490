"""python manage.py reset_password USERNAME — the operator's emergency reset, on the server (三员分立)."""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from dangjian.accounts.services import password_set
from dangjian.core.commands import DangjianCommand


class Command(DangjianCommand):
    help = (
        "应急重置账号密码（含三员账号）：只能在服务器上由运维人员执行，记入审计；"
        "新密码须在下次登录时由本人修改。密码从终端读取，或从标准输入读取（--stdin）。"
    )

    stealth_options = ("stdin_stream",)  # tests hand the password in

    def add_arguments(self, parser):
        parser.add_argument("username", help="要重置密码的用户名")
        parser.add_argument("--stdin", action="store_true", help="从标准输入读取新密码（一行）")

    def handle(self, *args, username: str, stdin: bool = False, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"找不到用户“{username}”。")
        if stdin:
            password = (options.get("stdin_stream") or sys.stdin).readline().rstrip("\n")
        else:
            password = getpass.getpass("新密码：")
            if getpass.getpass("再次输入新密码：") != password:
                raise CommandError("两次输入的密码不一致。")
        try:  # in the run's request context (DangjianCommand): the audit record carries its request id
            password_set(by=None, user=user, raw_password=password, via="reset_password")
        except ValidationError as exc:
            raise CommandError("密码不符合要求：" + "；".join(exc.messages)) from None
        self.stdout.write(f"已重置“{username}”的密码；该用户下次登录时须修改密码。")
