"""A dashboard period: whole UTC days, as `extraction_metrics.metric_date` counts them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from services.errors import InvalidInput

MAX_PERIOD_DAYS = 3_660


class Period(BaseModel):
    """Whole UTC days from `first_day` through `last_day`."""

    model_config = ConfigDict(frozen=True)

    first_day: dt.date
    last_day: dt.date

    @model_validator(mode="after")
    def _ordered_and_bounded(self) -> Self:
        if self.first_day > self.last_day:
            raise ValueError("the first day of a period comes before its last day")
        if (self.last_day - self.first_day).days >= MAX_PERIOD_DAYS:
            raise ValueError(f"a period spans at most {MAX_PERIOD_DAYS} days")
        return self

    @classmethod
    def today(cls, today: dt.date | None = None) -> Period:
        day = today or utc_today()
        return cls(first_day=day, last_day=day)

    @classmethod
    def this_week(cls, today: dt.date | None = None) -> Period:
        """Monday through today."""
        day = today or utc_today()
        return cls(first_day=day - dt.timedelta(days=day.weekday()), last_day=day)

    @classmethod
    def last_days(cls, days: int, today: dt.date | None = None) -> Period:
        """The last `days` days, today included."""
        if not 1 <= days <= MAX_PERIOD_DAYS:
            raise InvalidInput(f"A period is 1 to {MAX_PERIOD_DAYS} days long.")
        day = today or utc_today()
        return cls(first_day=day - dt.timedelta(days=days - 1), last_day=day)

    @classmethod
    def between(cls, first_day: dt.date, last_day: dt.date) -> Period:
        """A custom period, refused with a sentence when it makes no sense."""
        if first_day > last_day:
            raise InvalidInput("The 'from' day is after the 'to' day; swap them.")
        if (last_day - first_day).days >= MAX_PERIOD_DAYS:
            raise InvalidInput(f"A period can span at most {MAX_PERIOD_DAYS} days; choose a shorter one.")
        return cls(first_day=first_day, last_day=last_day)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time(), dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """Exclusive: midnight after the last day."""
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(), dt.UTC)

    def bounds(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "first_day": self.first_day, "last_day": self.last_day}


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
