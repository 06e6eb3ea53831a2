"""Timestamps as the APIs print them, and the ISO 8601 forms clients send."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def iso(moment: datetime | None) -> str | None:
    """UTC, millisecond precision, `Z` suffix: `2024-02-01T13:00:00.000Z`."""
    if moment is None:
        return None
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def parse_duration(text: str) -> timedelta:
    """ISO 8601 duration in weeks, days, hours, minutes and seconds (`PT10M`, `P1DT2H`).

    Years and months are refused: their length depends on the calendar.
    """
    match = _DURATION.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise ValueError(
            "is not an ISO 8601 duration in weeks, days, hours, minutes or seconds (e.g. PT10M)"
        )
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    try:
        return timedelta(**parts)
    except OverflowError:
        raise ValueError("is too long a duration") from None


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 timestamp; one without an offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("is not an ISO 8601 timestamp or duration") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_when(text: str, now: datetime) -> datetime:
    """A timestamp, or a duration counted from `now`."""
    if text.strip().upper().startswith("P"):
        try:
            return now + parse_duration(text)
        except OverflowError:
            raise ValueError("is too far in the future") from None
    return parse_timestamp(text)
