"""Tests for personnummer and samordningsnummer parsing in workflows.personnummer."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.personnummer import (
    IdentityNumber,
    IdentityNumberError,
    age_on,
    luhn_check_digit,
    parse_identity_number,
)

TODAY = date(2026, 3, 16)


def luhn(nine_digits: str) -> str:
    """Return the Luhn check digit of nine digits, computed independently of the module."""
    total = 0
    for index, char in enumerate(reversed(nine_digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += sum(divmod(value, 10))
    return str(-total % 10)


def with_check(yymmdd: str, serial3: str) -> str:
    """Append the correct check digit to YYMMDD and a three-digit serial."""
    return yymmdd + serial3 + luhn(yymmdd + serial3)


def wrong_check(yymmdd: str, serial3: str) -> str:
    """Append a wrong check digit to YYMMDD and a three-digit serial."""
    return yymmdd + serial3 + str((int(luhn(yymmdd + serial3)) + 1) % 10)


@pytest.mark.parametrize(
    ("nine", "check"),
    [("811218987", "6"), ("121212121", "2"), ("640823323", "4"), ("811278987", "3")],
)
def test_luhn_helpers_agree(nine: str, check: str) -> None:
    assert luhn(nine) == check
    assert luhn_check_digit(nine) == int(check)


@pytest.mark.parametrize(
    "value",
    [
        "19811218-9876",
        "198112189876",
        "811218-9876",
        "8112189876",
        "  19811218-9876\n",
        "\t811218-9876 ",
    ],
)
def test_valid_personnummer_in_every_form(value: str) -> None:
    result = parse_identity_number(value, TODAY)
    assert result == IdentityNumber(
        number="198112189876", birth_date=date(1981, 12, 18), coordination=False
    )
    assert result.formatted() == "19811218-9876"


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("19121212-1212", "191212121212"),
        ("121212+1212", "191212121212"),
        # Without '+', 121212 is in the latest century not after today: 2012.
        ("121212-1212", "201212121212"),
        ("1212121212", "201212121212"),
    ],
)
def test_century_of_the_test_number(value: str, number: str) -> None:
    assert parse_identity_number(value, TODAY).number == number


def plus(ten: str) -> str:
    """Write a ten-digit number with the '+' separator."""
    return ten[:6] + "+" + ten[6:]


@pytest.mark.parametrize(
    ("value", "birth", "today"),
    [
        (with_check("260316", "123"), date(2026, 3, 16), TODAY),  # born today
        (with_check("260317", "123"), date(1926, 3, 17), TODAY),  # tomorrow: a century back
        (with_check("300101", "234"), date(1930, 1, 1), TODAY),
        (plus(with_check("300101", "234")), date(1830, 1, 1), TODAY),
        (plus(with_check("200101", "234")), date(1920, 1, 1), TODAY),
        (plus(with_check("260316", "234")), date(1926, 3, 16), TODAY),  # 100 today
        (with_check("000229", "234"), date(2000, 2, 29), TODAY),
        # 2100 is not a leap year, so the latest valid century is 2000.
        (with_check("000229", "234"), date(2000, 2, 29), date(2101, 1, 1)),
    ],
)
def test_two_digit_year_birth_dates(value: str, birth: date, today: date) -> None:
    assert parse_identity_number(value, today).birth_date == birth


def test_valid_samordningsnummer() -> None:
    # Day 18 + 60 = 78.
    result = parse_identity_number("19811278-9873", TODAY)
    assert result.coordination is True
    assert result.birth_date == date(1981, 12, 18)
    assert result.number == "198112789873"
    assert result.formatted() == "19811278-9873"
    assert parse_identity_number("811278-9873", TODAY) == result


@pytest.mark.parametrize("day", [61, 75, 91])
def test_samordningsnummer_day_range(day: int) -> None:
    value = with_check(f"9001{day:02d}", "456")
    result = parse_identity_number(value, TODAY)
    assert result.coordination is True
    assert result.birth_date == date(1990, 1, day - 60)


@pytest.mark.parametrize(
    "value",
    [
        "19811218-9875",
        "8112189870",
        "19121212-1213",
        wrong_check("850709", "123"),
        "19811278-9876",  # samordningsnummer with the personnummer's check digit
    ],
)
def test_wrong_checksum(value: str) -> None:
    with pytest.raises(IdentityNumberError) as error:
        parse_identity_number(value, TODAY)
    assert error.value.code == "checksum"
    assert str(error.value)


@pytest.mark.parametrize(
    "value",
    [
        "19990230-" + with_check("990230", "123")[6:],  # 30 February
        "19990230-0000",  # a bad date wins over a bad checksum
        with_check("990230", "123"),
        with_check("991301", "123"),  # month 13
        with_check("990001", "123"),  # month 0
        with_check("990100", "123"),  # day 0
        with_check("990132", "123"),  # day 32
        with_check("990160", "123"),  # day 60: coordination day 0
        with_check("990192", "123"),  # day 92: coordination day 32
        "20" + with_check("010229", "123"),  # 2001 is not a leap year
        plus(with_check("000229", "123")),  # 1900 is not a leap year
        "20" + with_check("260317", "123"),  # tomorrow
        "20" + with_check("300101", "123"),  # future year
    ],
)
def test_invalid_date(value: str) -> None:
    with pytest.raises(IdentityNumberError) as error:
        parse_identity_number(value, TODAY)
    assert error.value.code == "date"


def test_future_date_in_full_form_is_refused_but_today_is_accepted() -> None:
    today = "20" + with_check("260316", "321")
    assert parse_identity_number(today, TODAY).birth_date == TODAY
    with pytest.raises(IdentityNumberError) as error:
        parse_identity_number(today, date(2026, 3, 15))
    assert error.value.code == "date"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "abcdefgh-ijkl",
        "19811218-987A",
        "1981121-89876",
        "811218-987",
        "81121898765",
        "1981121898761",
        "19811218--9876",
        "19811218 9876",
        "19811218_9876",
        "19811218+9876",  # '+' only with a two-digit year
        "811218/9876",
        "８１１２１８９８７６",  # full-width digits
    ],
)
def test_malformed(value: str) -> None:
    with pytest.raises(IdentityNumberError) as error:
        parse_identity_number(value, TODAY)
    assert error.value.code == "format"


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_identity_number("nonsense", TODAY)


@pytest.mark.parametrize(
    ("birth", "on", "expected"),
    [
        (date(2008, 3, 16), date(2026, 3, 15), 17),
        (date(2008, 3, 16), date(2026, 3, 16), 18),
        (date(1961, 3, 16), date(2026, 3, 15), 64),
        (date(1961, 3, 16), date(2026, 3, 16), 65),
        (date(1961, 3, 16), date(2026, 12, 31), 65),
        (date(2026, 3, 16), date(2026, 3, 16), 0),
        # 29 February: the birthday is 28 February in a common year.
        (date(2008, 2, 29), date(2026, 2, 27), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 18),
        (date(2008, 2, 29), date(2028, 2, 28), 19),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
    ],
)
def test_age_on(birth: date, on: date, expected: int) -> None:
    assert age_on(birth, on) == expected


def test_identity_number_age_on() -> None:
    person = parse_identity_number("20" + with_check("080316", "123"), TODAY)
    assert person.age_on(date(2026, 3, 15)) == 17
    assert person.age_on(date(2026, 3, 16)) == 18


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    serial=st.integers(min_value=0, max_value=999),
    coordination=st.booleans(),
)
def test_round_trip(birth: date, serial: int, coordination: bool) -> None:
    day = birth.day + (60 if coordination else 0)
    nine = f"{birth:%y%m}{day:02d}{serial:03d}"
    full = f"{birth.year}{nine[2:]}{luhn(nine)}"
    result = parse_identity_number(full, TODAY)
    assert result.birth_date == birth
    assert result.coordination is coordination
    assert result.number == full
    assert parse_identity_number(result.formatted(), TODAY) == result
    short = full[2:]
    if age_on(birth, TODAY) >= 100:
        short = plus(short)
    assert parse_identity_number(short, TODAY) == result
