from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dangjian.audit"
    verbose_name = "安全审计"

    def ready(self) -> None:
        from dangjian.audit import exports, signals  # noqa: F401  (connect the login/logout and export receivers)
