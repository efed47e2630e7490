from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "dangjian.training"
    verbose_name = "培训与学时"

    def ready(self) -> None:
        from dangjian.training import todo  # noqa: F401  (registers the app's to-do sources: docs/development.md)
