from django.apps import AppConfig


class CommitteesConfig(AppConfig):
    name = "dangjian.committees"
    verbose_name = "换届与组织设置"

    def ready(self) -> None:
        from dangjian.committees import todo  # noqa: F401  (registers the app's to-do sources: docs/development.md)
