from datetime import UTC, datetime, timedelta

import pytest

from tasklane.times import iso, parse_duration, parse_when

NOW = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT10M", timedelta(minutes=10)),
        ("PT2S", timedelta(seconds=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2W", timedelta(weeks=2)),
        ("pt1h30m", timedelta(hours=1, minutes=30)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["P", "PT", "P1Y", "P1M", "10M", "PT-1S", "P1DT", "", "P99999999999W"]
)
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_when_accepts_timestamps_with_and_without_offset() -> None:
    assert parse_when("2024-02-01T13:00:00Z", NOW) == NOW + timedelta(hours=1)
    assert parse_when("2024-02-01T14:00:00+01:00", NOW) == NOW + timedelta(hours=1)
    assert parse_when("2024-02-01T13:00:00", NOW) == NOW + timedelta(hours=1)
    assert parse_when("PT1H", NOW) == NOW + timedelta(hours=1)


def test_iso_is_utc_milliseconds_with_z() -> None:
    moment = datetime(2024, 2, 1, 14, 0, 0, 123456, tzinfo=UTC) + timedelta(hours=0)
    assert iso(moment) == "2024-02-01T14:00:00.123Z"
    assert iso(None) is None


def test_a_duration_past_the_calendar_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_when("P9999999D", NOW)
