"""Abstract building blocks shared by the area apps."""

from django.db import models


class TimeStampedModel(models.Model):
    """Creation and last-change times, kept on every business record."""

    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True
