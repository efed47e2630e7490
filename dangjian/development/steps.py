"""The step list of member development (发展党员的二十五个步骤), read from `data/steps.toml` and checked once at
start-up (`DevelopmentConfig.ready`): the stages, the steps in their order and each step's time rules are data, so
that a rule changes in the file and not in code branches (docs/development-of-members.md).
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

STEPS_FILE = Path(__file__).with_name("data") / "steps.toml"

# What a step can make of the person (Candidate.stage); kept here as plain strings so that the loader does not
# import the models (it runs while apps load).
STAGE_VALUES = ("applicant", "activist", "development", "probationary", "full")
ROSTER_VALUES = ("probationary", "full")
CONTACT_ROLES = ("contact", "introducer")
PROBATION_END = "probation_end"


class StepsFileError(ValueError):
    """The step list is not usable: what is wrong and where."""


@dataclass(frozen=True)
class Earliest:
    """The step may not be dated before `ref`'s date plus `months` (never waived)."""

    ref: int | str
    months: int
    rule: str


@dataclass(frozen=True)
class Deadline:
    """The step is due within `months` after `ref`; later only as an exception (when allowed), within `limit_months`."""

    ref: int | str
    months: int
    exception: bool
    limit_months: int | None
    rule: str


@dataclass(frozen=True)
class Contacts:
    """The people named are between `min` and `max` full members of the person's branch, assigned as `role`."""

    min: int
    max: int
    role: str
    rule: str


@dataclass(frozen=True)
class Course:
    """A short course of at least `min_days` days or `min_hours` hours."""

    min_days: int
    min_hours: int
    rule: str


@dataclass(frozen=True)
class Stage:
    number: int
    name: str


@dataclass(frozen=True)
class Step:
    number: int
    stage: int
    name: str
    people: str = ""
    becomes: str = ""
    roster: str = ""
    min_age: int | None = None
    age_rule: str = ""
    earliest: Earliest | None = None
    deadline: Deadline | None = None
    contacts: Contacts | None = None
    course: Course | None = None

    @property
    def label(self) -> str:
        return f"第{self.number}步 {self.name}"


@dataclass(frozen=True)
class StepList:
    stages: tuple[Stage, ...]
    steps: tuple[Step, ...]
    probation_months: int
    admission_vote_step: int
    extension_min_months: int
    extension_max_months: int
    half_year_review_months: int

    def step(self, number: int) -> Step:
        return self.steps[number - 1]

    def stage(self, number: int) -> Stage:
        return self.stages[number - 1]

    @property
    def last(self) -> Step:
        return self.steps[-1]

    def number_of(self, *, becomes: str = "", roster: str = "") -> int:
        """The number of the step that makes the person `becomes` (or writes the roster as `roster`)."""
        for step in self.steps:
            if (becomes and step.becomes == becomes) or (roster and step.roster == roster):
                return step.number
        raise KeyError(becomes or roster)

    def stage_after(self, number: int) -> str:
        """The stage a person is at once steps 1..`number` are recorded ("" before the first)."""
        stage = ""
        for step in self.steps[:number]:
            stage = step.becomes or stage
        return stage


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day where it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def _ref(value, number: int, where: str) -> int | str:
    if value == PROBATION_END:
        return value
    if not isinstance(value, int) or not 1 <= value < number:
        raise StepsFileError(f"{where}: ref must be an earlier step's number or {PROBATION_END!r}, not {value!r}")
    return value


def _int(table: dict, key: str, where: str, *, minimum: int = 0) -> int:
    value = table.get(key)
    if not isinstance(value, int) or value < minimum:
        raise StepsFileError(f"{where}: {key} must be a whole number of at least {minimum}, not {value!r}")
    return value


def _rule(table: dict, where: str) -> str:
    rule = table.get("rule")
    if not isinstance(rule, str) or not rule.strip():
        raise StepsFileError(f'{where}: every time rule names its rule (rule = "…")')
    return rule


def parse(data: dict) -> StepList:
    """Check and turn the TOML document into a StepList; StepsFileError says what is wrong."""
    stages = tuple(Stage(number=_int(s, "number", "stages", minimum=1), name=str(s["name"])) for s in data["stages"])
    if [s.number for s in stages] != list(range(1, len(stages) + 1)):
        raise StepsFileError("stages: numbered 1, 2, 3 … in order")
    steps: list[Step] = []
    for i, raw in enumerate(data["steps"], start=1):
        where = f"step {raw.get('number', '?')}"
        number = _int(raw, "number", where, minimum=1)
        if number != i:
            raise StepsFileError(f"{where}: steps are numbered 1, 2, 3 … in order (expected {i})")
        stage = _int(raw, "stage", where, minimum=1)
        if stage > len(stages) or (steps and stage < steps[-1].stage):
            raise StepsFileError(f"{where}: stage {stage} unknown or out of order")
        becomes, roster = raw.get("becomes", ""), raw.get("roster", "")
        if becomes and becomes not in STAGE_VALUES:
            raise StepsFileError(f"{where}: becomes must be one of {STAGE_VALUES}")
        if roster and roster not in ROSTER_VALUES:
            raise StepsFileError(f"{where}: roster must be one of {ROSTER_VALUES}")
        earliest = deadline = contacts = course = None
        if "earliest" in raw:
            e = raw["earliest"]
            earliest = Earliest(_ref(e.get("ref"), number, where), _int(e, "months", where), _rule(e, where))
        if "deadline" in raw:
            d = raw["deadline"]
            limit = d.get("limit_months")
            months = _int(d, "months", where, minimum=1)
            if limit is not None and (not isinstance(limit, int) or limit < months):
                raise StepsFileError(f"{where}: limit_months must be at least months")
            deadline = Deadline(
                _ref(d.get("ref"), number, where), months, bool(d.get("exception", False)), limit, _rule(d, where)
            )
        if "contacts" in raw:
            c = raw["contacts"]
            low, high = _int(c, "min", where, minimum=1), _int(c, "max", where, minimum=1)
            if low > high or c.get("role") not in CONTACT_ROLES:
                raise StepsFileError(f"{where}: contacts need min <= max and a role of {CONTACT_ROLES}")
            contacts = Contacts(low, high, c["role"], _rule(c, where))
        if "course" in raw:
            c = raw["course"]
            course = Course(
                _int(c, "min_days", where, minimum=1), _int(c, "min_hours", where, minimum=1), _rule(c, where)
            )
        min_age = raw.get("min_age")
        if min_age is not None and not raw.get("age_rule"):
            raise StepsFileError(f'{where}: min_age names its rule (age_rule = "…")')
        steps.append(
            Step(
                number=number,
                stage=stage,
                name=str(raw["name"]),
                people=str(raw.get("people", "")),
                becomes=becomes,
                roster=roster,
                min_age=min_age,
                age_rule=str(raw.get("age_rule", "")),
                earliest=earliest,
                deadline=deadline,
                contacts=contacts,
                course=course,
            )
        )
    result = StepList(
        stages=stages,
        steps=tuple(steps),
        probation_months=_int(data, "probation_months", "file", minimum=1),
        admission_vote_step=_int(data, "admission_vote_step", "file", minimum=1),
        extension_min_months=_int(data, "extension_min_months", "file", minimum=1),
        extension_max_months=_int(data, "extension_max_months", "file", minimum=1),
        half_year_review_months=_int(data, "half_year_review_months", "file", minimum=1),
    )
    for needed in STAGE_VALUES:
        result.number_of(becomes=needed)
    for needed in ROSTER_VALUES:
        result.number_of(roster=needed)
    if not result.admission_vote_step < result.number_of(roster="probationary"):
        raise StepsFileError("admission_vote_step comes before the step that writes the probationary member")
    if result.steps[0].becomes != "applicant":
        raise StepsFileError("step 1 makes the person an applicant")
    return result


@functools.cache
def step_list() -> StepList:
    """The step list of `data/steps.toml`, read and checked once."""
    with STEPS_FILE.open("rb") as fh:
        try:
            return parse(tomllib.load(fh))
        except (KeyError, TypeError) as exc:
            raise StepsFileError(f"{STEPS_FILE.name}: missing or wrong entry {exc}") from exc
