from django.core.management.base import BaseCommand
from django.db import connection, transaction

from dangjian.core import crypto
from dangjian.members.models import Member

# The encrypted columns of the member table and of its history table (the blind indexes do not change: they are
# keyed with the index key, which is not rotated here).
SEALED_COLUMNS = ("id_number", "phone")


class Command(BaseCommand):
    help = "用当前密钥重新加密全部公民身份号码和手机号码（党员表及其变更历史），密钥轮换的第二步，见 docs/security.md。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size=1000, **options):
        current, _ = crypto.keyring().current
        history = Member.history.model
        members = self._reseal(Member._meta.db_table, "id", current, batch_size)
        histories = self._reseal(history._meta.db_table, "history_id", current, batch_size)
        self.stdout.write(
            f"已用密钥 {current} 重新加密 {members} 条党员记录和 {histories} 条历史记录中的公民身份号码和手机号码。"
        )

    def _reseal(self, table: str, pk_column: str, current: str, batch_size: int) -> int:
        """Re-seal every token not under the current key, in place and without touching anything else:
        raw SQL, so no history row is written and the digests (unchanged values) stay valid. The rows changed."""
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in SEALED_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {quote(pk_column)}, {columns} FROM {quote(table)}")  # names from the models
            stale = [
                (pk, tokens)
                for pk, *tokens in cursor.fetchall()
                if any(token and crypto.token_key_id(token) != current for token in tokens)
            ]
        assignments = ", ".join(f"{quote(c)} = %s" for c in SEALED_COLUMNS)
        for start in range(0, len(stale), batch_size):
            batch = [
                (*(self._resealed(token, current) for token in tokens), pk)
                for pk, tokens in stale[start : start + batch_size]
            ]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk_column)} = %s", batch)
        return len(stale)

    @staticmethod
    def _resealed(token: str, current: str) -> str:
        if not token or crypto.token_key_id(token) == current:
            return token
        return crypto.encrypt(crypto.decrypt(token))
