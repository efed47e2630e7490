from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "dangjian.training"
    verbose_name = "培训与学时"
