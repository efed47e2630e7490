from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "dangjian.workbench"
    verbose_name = "工作台"
