from django.core.management.base import BaseCommand
from django.db import connection, transaction

from dangjian.core import crypto
from dangjian.members.models import Member


class Command(BaseCommand):
    help = "用当前密钥重新加密全部党员的公民身份号码（密钥轮换的第二步，见 docs/security.md）。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size=1000, **options):
        current, _ = crypto.keyring().current
        table = Member._meta.db_table
        done = 0
        # Read raw tokens so that rows already under the current key are skipped without decrypting.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, id_number FROM {table}")
            stale = [pk for pk, token in cursor.fetchall() if crypto.token_key_id(token) != current]
        for start in range(0, len(stale), batch_size):
            with transaction.atomic():
                for member in Member.objects.select_for_update().filter(pk__in=stale[start : start + batch_size]):
                    # save() seals the clear value again under the current key.
                    member.save(update_fields=["id_number", "id_number_digest"])
                    done += 1
        self.stdout.write(f"已用密钥 {current} 重新加密 {done} 条公民身份号码。")
