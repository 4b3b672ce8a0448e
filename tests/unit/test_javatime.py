from datetime import UTC, datetime, timedelta, timezone

import pytest

from python_connector.config import javatime


@pytest.mark.parametrize(("text", "pattern", "expected"), [
    ("2024-07-01T10:20:30Z", "yyyy-MM-dd'T'HH:mm:ss'Z'", datetime(2024, 7, 1, 10, 20, 30, tzinfo=UTC)),
    ("01/Jul/2024 10:20:30.123 +0200", "dd/MMM/yyyy HH:mm:ss.SSS Z",
     datetime(2024, 7, 1, 10, 20, 30, 123000, tzinfo=timezone(timedelta(hours=2)))),
    ("2024-07-01 01:02:03 PM", "yyyy-MM-dd hh:mm:ss a", datetime(2024, 7, 1, 13, 2, 3, tzinfo=UTC)),
    ("Mon, 1 July 2024 08:00", "EEE, d MMMM yyyy HH:mm", datetime(2024, 7, 1, 8, 0, tzinfo=UTC)),
    ("2024-07-01T10:20:30-05:30", "uuuu-MM-dd'T'HH:mm:ssXXX",
     datetime(2024, 7, 1, 10, 20, 30, tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
    ("it's 2024-07-01", "'it''s' yyyy-MM-dd", datetime(2024, 7, 1, tzinfo=UTC)),
])
def test_java_patterns_parse_like_datetimeformatter(text, pattern, expected):
    assert javatime.parse(text, pattern) == expected


def test_epoch_millis_of_the_default_pattern():
    assert javatime.parse_epoch_ms("1970-01-01T00:00:01Z", "yyyy-MM-dd'T'HH:mm:ss'Z'") == 1000


@pytest.mark.parametrize(("pattern", "message"), [
    ("yyyy-QQ-dd", "letter 'Q'"),
    ("HH:mm", "needs a year, a month and a day"),
    ("yyyy-MM-dd 'T", "unterminated"),
    ("yyyy-MM-dd[ HH]", "optional sections"),
])
def test_unusable_patterns_say_why(pattern, message):
    with pytest.raises(javatime.PatternError, match=message):
        javatime.compile_pattern(pattern)


def test_text_not_matching_the_pattern_is_refused():
    with pytest.raises(ValueError, match="does not match"):
        javatime.parse("2024/07/01", "yyyy-MM-dd")
