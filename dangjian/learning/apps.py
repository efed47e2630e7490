from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "dangjian.learning"
    verbose_name = "网络学习与证书"
