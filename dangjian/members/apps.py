from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "dangjian.members"
    verbose_name = "党员"

    def ready(self) -> None:
        from dangjian.members import jobs, todo  # noqa: F401  (registers the app's to-do sources and job runners)
