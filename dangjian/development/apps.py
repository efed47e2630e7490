from django.apps import AppConfig


class DevelopmentConfig(AppConfig):
    name = "dangjian.development"
    verbose_name = "发展党员"

    def ready(self) -> None:
        from dangjian.development import todo  # noqa: F401  (registers the app's to-do sources: docs/development.md)
        from dangjian.development.steps import step_list

        step_list()  # the step list is checked at start-up: a broken data/steps.toml stops the server here
