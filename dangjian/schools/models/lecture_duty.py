"""The 上讲台 duty (Huangpi: leaders teach at party schools): who must lecture, where a lecture counts, and how
many lectures a year."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from dangjian.core.models import TimeStampedModel
from dangjian.schools.models.schools import SchoolLevel


class LectureDutyWho(models.TextChoices):
    DISTRICT_LEADERS = "district_leaders", "区级领导（最上级党组织的现任书记、副书记、委员）"
    DISTRICT_CADRES = "district_cadres", "处级干部（标记为区管干部的党员）"
    LEADERSHIP = "leadership", "班子成员（标记为班子成员的党员）"


class LectureDutyWhere(models.TextChoices):
    DISTRICT = "district", "区委党校"
    AMATEUR = "amateur", "业余党校（含片区业余党校）"
    TOWN = "town", "街镇党校"
    ANY = "any", "任一党校"


# The school levels at which a lecture counts for each `where`.
LECTURE_DUTY_LEVELS: dict[str, tuple[str, ...]] = {
    LectureDutyWhere.DISTRICT: (SchoolLevel.DISTRICT,),
    LectureDutyWhere.AMATEUR: (SchoolLevel.AMATEUR, SchoolLevel.AREA_AMATEUR),
    LectureDutyWhere.TOWN: (SchoolLevel.TOWN,),
    LectureDutyWhere.ANY: tuple(SchoolLevel.values),
}


class LectureDuty(TimeStampedModel):
    """A 上讲台 duty (领导干部上讲台任务): who must teach (`who`: district leaders by their party posts at the top
    organization, division-level cadres by the 区管干部 flag, or leadership-team members by the 班子成员 flag), where
    (`where`: the level of the party school), how many times a year, for a range of years. Seeded switched on from
    the Huangpi seed (《关于建立黄陂区领导干部上讲台制度的实施意见（试行）》: 区级领导每年至少上党校讲台一次，
    处级干部每年至少在业余党校、本系统论坛讲坛授课一次). A lecture is a completed booking (约课) or a closed
    session (课次) taught by an instructor linked to the member, at a school of that level
    (`selectors.lecture_duty`)."""

    name = models.CharField("名称", max_length=100)
    who = models.CharField("任务对象", max_length=20, choices=LectureDutyWho.choices)
    where = models.CharField("授课党校", max_length=20, choices=LectureDutyWhere.choices)
    times_per_year = models.PositiveSmallIntegerField(
        "每年至少次数", default=1, validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    valid_from = models.PositiveSmallIntegerField(
        "起始年度", default=2000, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    valid_to = models.PositiveSmallIntegerField(
        "截止年度", null=True, blank=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    source = models.CharField("依据", max_length=300, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "上讲台任务"
        verbose_name_plural = "上讲台任务"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="lecture_duty_valid_range",
                violation_error_message="截止年度不能早于起始年度。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def levels(self) -> tuple[str, ...]:
        return LECTURE_DUTY_LEVELS[self.where]
