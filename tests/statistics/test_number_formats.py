"""Numbers as the reader's language writes them, through one helper (coordination.core.formats):
a decimal comma in Swedish, a point in English, the per cent sign after a non-breaking space and
ranges with an en dash, on the pages where "0.0 %" once stood next to "100,0 %" and "40 - 44"
next to "18–64"."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale

from coordination.core.formats import band_label, decimal_text, number_range, percent_text
from tests.factories import PASSWORD, make_programme, make_user
from workflows.statistics import Band, age_bands


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        ("sv", Decimal("0"), "0,0\u00a0%"),
        ("sv", Decimal("100"), "100,0\u00a0%"),
        ("sv", 12.345, "12,3\u00a0%"),
        ("en", Decimal("0"), "0.0\u00a0%"),
        ("en", 85.71, "85.7\u00a0%"),
        ("sv", None, "–"),
    ],
)
def test_percentages_in_the_readers_language(app, locale, value, expected):
    with app.test_request_context(), force_locale(locale):
        assert percent_text(value) == expected


def test_decimals_and_whole_percentages(app):
    with app.test_request_context(), force_locale("sv"):
        assert decimal_text(Decimal("2.04")) == "2,0"
        assert decimal_text(2.5) == "2,5"
        assert percent_text(312.6, 0) == "313\u00a0%"
        assert decimal_text(None) == "–"


def test_ranges_take_an_en_dash_in_every_language(app):
    with app.test_request_context():
        for locale in ("sv", "en"):
            with force_locale(locale):
                assert number_range(18, 64) == "18–64"
                assert band_label(Band(40, 44)) == "40–44"
                assert number_range(7, 7) == "7"
    assert [b.label for b in age_bands(15, 24, 5)] == ["15–19", "20–24"]


def test_the_pages_use_the_same_formats(client):
    programme = make_programme()
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    programmes = client.get("/programmes/").get_data(as_text=True)
    assert f"{programme.min_age}–{programme.max_age} år" in programmes
    assert f"{programme.min_age} - {programme.max_age}" not in programmes
    funnel = client.get("/conferences/overview").get_data(as_text=True)
    assert "0.0 %" not in funnel and "0.0\u00a0%" not in funnel
