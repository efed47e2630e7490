from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dangjian.audit"
    verbose_name = "安全审计"

    def ready(self) -> None:
        from dangjian.audit import signals  # noqa: F401  (connects the login/logout receivers)
