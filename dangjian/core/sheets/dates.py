"""Dates as people type them in a spreadsheet (docs/imports.md, "Dates"): an Excel date cell or serial number, or text
as 2020-05-01, 2020/5/1, 2020.05.01, 2020年5月1日 or 20200501 (full-width digits too). A year and month alone
(2020-05, 2020年5月, 202005) only where the field allows it. A two-digit year is an error, never a guess."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

EXCEL_EPOCH = dt.date(1899, 12, 30)
_MAX_EXCEL_SERIAL = 2_958_465  # 9999-12-31

DATE_SHAPES = "2020-05-01、2020/5/1、2020.05.01、2020年5月1日或20200501"
MSG_NOT_A_DATE = "“{text}”不是日期：应为Excel日期，或写作" + DATE_SHAPES + "。"
MSG_TWO_DIGIT_YEAR = "“{text}”的年份只有两位，无法确定年代：请写四位年份，如2020-05-01。"
MSG_MONTH_ONLY = "“{text}”只写到月：该列须写到日，如2020-05-01。"
MSG_NO_SUCH_DAY = "“{text}”不是存在的日期（请核对月份和日）。"

_FULL = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")
_COMPACT_MONTH = re.compile(r"^(\d{4})(\d{2})$")
_TWO_DIGIT_YEAR = re.compile(r"^(\d{2})[-/.年](\d{1,2})([-/.月](\d{1,2})日?)?$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2}$")
_SPACES = re.compile(r"\s+")


class DateError(ValueError):
    """A cell that is not a date the field accepts; `message` says why, in Chinese, quoting the cell."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _text_of(value) -> str:
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub("", text)[:40]


def _day(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateError(MSG_NO_SUCH_DAY.format(text=text)) from None


def read_period(value, *, month_ok: bool = False) -> tuple[dt.date, dt.date] | None:
    """The first and last day a cell names: one day for a date; a whole month for a year and month where `month_ok`.
    None for an empty cell. Raises DateError with the reason."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date(), value.date()
    if isinstance(value, dt.date):
        return value, value
    if isinstance(value, bool):
        raise DateError(MSG_NOT_A_DATE.format(text=value))
    if isinstance(value, int | float):
        number = int(value)
        if value == number and 19000101 <= number <= 99991231:  # 20210701 typed as a number
            return read_period(str(number), month_ok=month_ok)
        if value == number and 190001 <= number <= 999912 and month_ok:  # 202107 typed as a number
            return read_period(str(number), month_ok=month_ok)
        if 1 <= value <= _MAX_EXCEL_SERIAL:
            day = EXCEL_EPOCH + dt.timedelta(days=number)
            return day, day
        raise DateError(MSG_NOT_A_DATE.format(text=_text_of(value)))
    text = _text_of(value)
    if not text:
        return None
    match = _FULL.match(text) or _COMPACT.match(text)
    if match:
        year, month, day_of_month = (int(part) for part in match.groups())
        day = _day(year, month, day_of_month, text=text)
        return day, day
    match = _MONTH.match(text) or _COMPACT_MONTH.match(text)
    if match:
        year, month = (int(part) for part in match.groups())
        if not 1 <= month <= 12:
            raise DateError(MSG_NO_SUCH_DAY.format(text=text))
        if not month_ok:
            raise DateError(MSG_MONTH_ONLY.format(text=text))
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    if _TWO_DIGIT_YEAR.match(text):
        raise DateError(MSG_TWO_DIGIT_YEAR.format(text=text))
    head = re.split(r"[T ]", str(value).strip(), maxsplit=1)[0]  # a datetime typed as text: its date part
    if head and head != str(value).strip():
        return read_period(head, month_ok=month_ok)
    raise DateError(MSG_NOT_A_DATE.format(text=text))


def read_date(value, *, month_ok: bool = False) -> dt.date | None:
    """The date a cell holds (a year and month alone, where `month_ok`, is its first day); None when empty. Raises
    DateError (a ValueError) with the reason."""
    period = read_period(value, month_ok=month_ok)
    return None if period is None else period[0]


# The name earlier importers use.
cell_date = read_date
