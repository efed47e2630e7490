from django.apps import AppConfig


class DuesConfig(AppConfig):
    name = "dangjian.dues"
    verbose_name = "党费"

    def ready(self) -> None:
        from dangjian.dues import todo  # noqa: F401  (registers the app's to-do sources: docs/development.md)
