from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_migrate, pre_migrate


class CoreConfig(AppConfig):
    name = "dangjian.core"
    verbose_name = "公共"

    def ready(self) -> None:
        # Spreadsheets are parsed with openpyxl; without defusedxml it would expand XML entities
        # (billion laughs, external entities). Refuse to start rather than parse unsafely.
        from openpyxl.xml import DEFUSEDXML

        if not DEFUSEDXML:
            raise ImproperlyConfigured("openpyxl 未启用 defusedxml：请安装 requirements/base.txt 中的 defusedxml。")
        post_migrate.connect(_create_cache_table, sender=self)
        # The kept summaries (core.summaries) change version on every write to their tables; not while `migrate`
        # runs (the cache's table comes after the migrations, just above).
        from dangjian.core import summaries

        summaries.install()
        pre_migrate.connect(summaries.pause, sender=self)
        post_migrate.connect(summaries.resume, sender=self)


def _create_cache_table(sender, using: str = "default", **kwargs) -> None:
    """The database cache's table (settings.CACHES without REDIS_URL) comes with `migrate`: an install has one command
    to run, and the cache is shared by every app process from the first request."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
