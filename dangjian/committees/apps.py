from django.apps import AppConfig


class CommitteesConfig(AppConfig):
    name = "dangjian.committees"
    verbose_name = "换届与组织设置"
