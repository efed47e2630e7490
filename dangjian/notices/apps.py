from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "dangjian.notices"
    label = "notices"
    verbose_name = "站内通知"

    def ready(self) -> None:
        from dangjian.notices import receivers  # noqa: F401  (connects the security-alert notifications)
