"""Swedish personal identity numbers (personnummer) and coordination numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "IdentityNumber",
    "IdentityNumberError",
    "age_on",
    "luhn_check_digit",
    "parse_identity_number",
]

ErrorCode = Literal["format", "date", "checksum"]

_COORDINATION_OFFSET = 60

_PATTERN = re.compile(r"(?P<date>\d{8}|\d{6})(?P<sep>[-+]?)(?P<serial>\d{4})", re.ASCII)


class IdentityNumberError(ValueError):
    """A personnummer or samordningsnummer that cannot be accepted."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        """Store the error code ("format", "date" or "checksum") and the message."""
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message


@dataclass(frozen=True)
class IdentityNumber:
    """A validated identity number in canonical 12-digit form."""

    number: str
    birth_date: date
    coordination: bool

    def formatted(self) -> str:
        """Return the number as YYYYMMDD-NNNN."""
        return f"{self.number[:8]}-{self.number[8:]}"

    def age_on(self, d: date) -> int:
        """Return the holder's age in full years on a date."""
        return age_on(self.birth_date, d)


def luhn_check_digit(digits: str) -> int:
    """Return the Luhn check digit for a string of digits (the 9 digits YYMMDDNNN)."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def age_on(birth: date, on: date) -> int:
    """Return the age in full years on a date; a 29 February birthday falls on 28 February."""
    birthday_month_day = (birth.month, birth.day)
    if birthday_month_day == (2, 29) and not _is_leap(on.year):
        birthday_month_day = (2, 28)
    return on.year - birth.year - ((on.month, on.day) < birthday_month_day)


def _is_leap(year: int) -> bool:
    """Tell whether a Gregorian year is a leap year."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _make_date(year: int, month: int, day: int) -> date | None:
    """Build a date, or return None if it does not exist."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _resolve_century(yy: int, month: int, day: int, plus: bool, today: date) -> date:
    """Place a two-digit year in the latest century not after today (100 more with '+')."""
    latest = today.year - (today.year - yy) % 100
    for year in (latest, latest - 100):
        birth = _make_date(year, month, day)
        if birth is not None and birth <= today:
            break
    else:
        raise IdentityNumberError("date", "The date of birth in the number does not exist.")
    if plus:
        birth = _make_date(birth.year - 100, month, day)
        if birth is None:
            raise IdentityNumberError("date", "The date of birth in the number does not exist.")
    return birth


def parse_identity_number(value: str, today: date) -> IdentityNumber:
    """Parse and validate a personnummer or samordningsnummer relative to today's date."""
    if not isinstance(value, str):
        raise IdentityNumberError("format", "The identity number must be text.")
    match = _PATTERN.fullmatch(value.strip())
    if match is None:
        raise IdentityNumberError(
            "format",
            "Write the identity number as YYYYMMDD-NNNN, YYMMDD-NNNN or YYMMDD+NNNN.",
        )
    date_part, sep, serial = match["date"], match["sep"], match["serial"]
    if len(date_part) == 8 and sep == "+":
        raise IdentityNumberError(
            "format", "The '+' separator is only used with a two-digit year (YYMMDD+NNNN)."
        )

    month = int(date_part[-4:-2])
    written_day = int(date_part[-2:])
    coordination = written_day > _COORDINATION_OFFSET
    day = written_day - _COORDINATION_OFFSET if coordination else written_day

    if len(date_part) == 8:
        birth = _make_date(int(date_part[:4]), month, day)
        if birth is None:
            raise IdentityNumberError("date", "The date of birth in the number does not exist.")
    else:
        birth = _resolve_century(int(date_part[:2]), month, day, sep == "+", today)
    if birth > today:
        raise IdentityNumberError("date", "The date of birth in the number is in the future.")

    ten_digits = date_part[-6:] + serial
    if luhn_check_digit(ten_digits[:9]) != int(ten_digits[9]):
        raise IdentityNumberError(
            "checksum", "The check digit does not match: check the number for typing errors."
        )

    number = f"{birth.year:04d}{date_part[-4:]}{serial}"
    return IdentityNumber(number=number, birth_date=birth, coordination=coordination)
