from django.apps import AppConfig


class OrglifeConfig(AppConfig):
    name = "dangjian.orglife"
    verbose_name = "组织生活"
