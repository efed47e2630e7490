from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "dangjian.exams"
    verbose_name = "考试测评"

    def ready(self) -> None:
        from dangjian.exams import todo  # noqa: F401  (registers the app's to-do sources: docs/development.md)
