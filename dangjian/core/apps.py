from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class CoreConfig(AppConfig):
    name = "dangjian.core"
    verbose_name = "公共"

    def ready(self) -> None:
        # Spreadsheets are parsed with openpyxl; without defusedxml it would expand XML entities
        # (billion laughs, external entities). Refuse to start rather than parse unsafely.
        from openpyxl.xml import DEFUSEDXML

        if not DEFUSEDXML:
            raise ImproperlyConfigured("openpyxl 未启用 defusedxml：请安装 requirements/base.txt 中的 defusedxml。")
