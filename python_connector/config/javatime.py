"""Parsing timestamps with java.time.format.DateTimeFormatter patterns, as the spec's properties use.

``cdc.start.position.timestamp.format`` is a Java pattern (default ``yyyy-MM-dd'T'HH:mm:ss'Z'``). The
pattern is compiled once into a regular expression; the letters timestamps use are supported (era-less
years, months as numbers or names, days, 24/12-hour clocks with AM/PM, minutes, seconds, fractions,
offsets, day-of-week names). A text without an offset is read as UTC, as the default pattern's literal
'Z' says.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_OFFSET = r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)"


class PatternError(ValueError):
    pass


def _field(letter: str, width: int) -> str:
    """The regular expression of one run of a pattern letter."""
    if letter in "yu":
        return r"(?P<year>\d{2})" if width == 2 else r"(?P<year>[+-]?\d{4,9})"
    if letter in "ML":
        if width >= 3:
            return r"(?P<month_name>[A-Za-z]+)"
        return r"(?P<month>\d{2})" if width == 2 else r"(?P<month>\d{1,2})"
    simple = {"d": "day", "H": "hour", "h": "hour12", "m": "minute", "s": "second"}
    if letter in simple:
        digits = r"\d{2}" if width == 2 else r"\d{1,2}"
        return f"(?P<{simple[letter]}>{digits})"
    if letter == "S":
        return rf"(?P<fraction>\d{{{width}}})"
    if letter == "n":
        return r"(?P<nanos>\d{1,9})"
    if letter == "a":
        return r"(?P<ampm>[AaPp][Mm])"
    if letter == "E":
        return r"[A-Za-z]+"
    if letter in "XxZ":
        return _OFFSET
    raise PatternError(f"pattern letter '{letter}' is not supported for timestamps (use y, M, d, H, h, a, m, s, "
                       "S, n, E, X, x, Z and quoted literals)")


def _quoted(pattern: str, start: int) -> tuple[str, int]:
    """The literal of a quoted section starting at ``start`` ('' inside or alone is a quote), and its end."""
    if pattern.startswith("''", start):
        return "'", start + 2
    text, i = [], start + 1
    while i < len(pattern):
        if pattern[i] == "'":
            if pattern.startswith("''", i):
                text.append("'")
                i += 2
                continue
            return "".join(text), i + 1
        text.append(pattern[i])
        i += 1
    raise PatternError("unterminated quoted literal")


@lru_cache(maxsize=64)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compiles a DateTimeFormatter pattern; raises PatternError naming what is wrong."""
    out, i, seen = [], 0, set()
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            literal, i = _quoted(pattern, i)
            out.append(re.escape(literal))
        elif c.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == c:
                j += 1
            regex = _field(c, j - i)
            group = re.search(r"\?P<(\w+)>", regex)
            if group:
                if group.group(1) in seen:
                    raise PatternError(f"the pattern gives '{c}' twice")
                seen.add(group.group(1))
            out.append(regex)
            i = j
        elif c in "[]#{}":
            raise PatternError(f"'{c}' (optional sections and reserved characters) is not supported")
        else:
            out.append(re.escape(c))
            i += 1
    if not ({"year", "month", "day"} <= seen or {"year", "month_name", "day"} <= seen):
        raise PatternError("the pattern needs a year, a month and a day")
    return re.compile("".join(out), re.IGNORECASE)


def parse(text: str, pattern: str) -> datetime:
    """The instant ``text`` denotes under ``pattern`` (UTC when the text has no offset)."""
    match = compile_pattern(pattern).fullmatch(text.strip())
    if not match:
        raise ValueError(f"'{text}' does not match the pattern {pattern}")
    g = match.groupdict()
    year = int(g["year"])
    if len(g["year"]) == 2:
        year += 2000
    if g.get("month_name"):
        names = [m for m in _MONTHS if m.startswith(g["month_name"].lower())]
        if not names:
            raise ValueError(f"'{g['month_name']}' is not a month")
        month = _MONTHS.index(names[0]) + 1
    else:
        month = int(g["month"])
    hour = int(g.get("hour") or 0)
    if g.get("hour12"):
        hour = int(g["hour12"]) % 12 + (12 if (g.get("ampm") or "").lower() == "pm" else 0)
    micros = 0
    if g.get("fraction"):
        micros = int(g["fraction"].ljust(6, "0")[:6])
    elif g.get("nanos"):
        micros = int(g["nanos"]) // 1000
    tz = UTC
    offset = g.get("offset")
    if offset and offset.upper() != "Z":
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        tz = timezone(delta if offset[0] == "+" else -delta)
    return datetime(year, month, int(g["day"]), hour, int(g.get("minute") or 0), int(g.get("second") or 0), micros,
                    tzinfo=tz)


def parse_epoch_ms(text: str, pattern: str) -> int:
    return int(parse(text, pattern).timestamp() * 1000)

