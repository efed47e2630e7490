from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "dangjian.schools"
    verbose_name = "党校"

    def ready(self) -> None:
        from dangjian.schools import todo  # noqa: F401  (registers the app's to-do sources: docs/development.md)
