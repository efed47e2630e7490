from django.core.management.base import BaseCommand
from django.db import connection, transaction

from dangjian.core import crypto
from dangjian.members.models import Member


class Command(BaseCommand):
    help = "用当前密钥重新加密全部公民身份号码（党员表及其变更历史），密钥轮换的第二步，见 docs/security.md。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size=1000, **options):
        current, _ = crypto.keyring().current
        history = Member.history.model
        members = self._reseal(Member._meta.db_table, "id", current, batch_size)
        histories = self._reseal(history._meta.db_table, "history_id", current, batch_size)
        self.stdout.write(
            f"已用密钥 {current} 重新加密 {members} 条党员记录和 {histories} 条历史记录中的公民身份号码。"
        )

    def _reseal(self, table: str, pk_column: str, current: str, batch_size: int) -> int:
        """Re-seal every token not under the current key, in place and without touching anything else:
        raw SQL, so no history row is written and the digests (unchanged values) stay valid."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk_column}, id_number FROM {table}")  # names come from the models
            stale = [(pk, token) for pk, token in cursor.fetchall() if token and crypto.token_key_id(token) != current]
        for start in range(0, len(stale), batch_size):
            batch = [(crypto.encrypt(crypto.decrypt(token)), pk) for pk, token in stale[start : start + batch_size]]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET id_number = %s WHERE {pk_column} = %s", batch)
        return len(stale)
