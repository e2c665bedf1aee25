"""Numbers as the reader's language writes them: one place for decimals, percentages and ranges.

Swedish (the default) writes a decimal comma and a space before the per cent sign ("12,5 %"),
English a decimal point ("12.5 %"); a range of numbers takes an en dash without spaces in both
("18–64", "40–44"). Pages, PDFs and report labels use these (the template filters `pct`,
`percent` and `range`); machine-readable exports keep plain numbers.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_decimal

from workflows.statistics import Band

EN_DASH = "\u2013"
NBSP = "\u00a0"
MISSING = EN_DASH


def decimal_text(value: Decimal | float | int | None, decimals: int = 1) -> str:
    """Return a number with a fixed number of decimals in the reader's language; – when none."""
    if value is None:
        return MISSING
    pattern = "0." + "0" * decimals if decimals > 0 else "0"
    return str(format_decimal(value, format=pattern))


def percent_text(value: Decimal | float | int | None, decimals: int = 1) -> str:
    """Return a percentage (already in per cent, 0–100) with its sign: "12,5 %"; – when none."""
    if value is None:
        return MISSING
    return f"{decimal_text(value, decimals)}{NBSP}%"


def number_range(low: int, high: int) -> str:
    """Return a range of whole numbers with an en dash: "40–44" (one number when they meet)."""
    if low == high:
        return str(format_decimal(low, format="0"))
    return f"{format_decimal(low, format='0')}{EN_DASH}{format_decimal(high, format='0')}"


def band_label(band: Band) -> str:
    """Return an age band or a bin of months as a range: "40–44", "1–3" (its code stays "40_44")."""
    return number_range(band.low, band.high)


def identity_number_text(value: str | None) -> str:
    """Return a personnummer or samordningsnummer as it is written: YYYYMMDD-NNNN.

    Twelve digits (the stored form) get their hyphen; anything else (a number as typed in a draft
    referral) is shown as it is.
    """
    if not value:
        return ""
    text = value.strip()
    if len(text) == 12 and text.isascii() and text.isdigit():
        return f"{text[:8]}-{text[8:]}"
    return text
