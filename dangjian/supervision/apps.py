from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "dangjian.supervision"
    verbose_name = "校外培训机构党建"
