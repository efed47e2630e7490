from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "dangjian.supervision"
    verbose_name = "校外培训机构党建"

    def ready(self) -> None:
        from dangjian.supervision import todo  # noqa: F401  (registers the app's to-do sources: docs/development.md)
