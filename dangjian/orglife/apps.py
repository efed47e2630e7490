from django.apps import AppConfig


class OrglifeConfig(AppConfig):
    name = "dangjian.orglife"
    verbose_name = "组织生活"

    def ready(self) -> None:
        from dangjian.orglife import todo  # noqa: F401  (registers the app's to-do sources: docs/development.md)
