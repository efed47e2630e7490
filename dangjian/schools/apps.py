from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "dangjian.schools"
    verbose_name = "党校"
