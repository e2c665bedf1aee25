"""The worked example of DOMAIN.md §13, built through the factories and the operations."""

from __future__ import annotations

import re
from datetime import date

from coordination.extensions import db
from coordination.socioeconomics import operations as ops
from tests.factories import make_programme, make_sus_participant

# Taxes of 90,000 a year from unsubsidised work: kommun 60 %, region 25 %, state 15 %.
WORKED_PRICES = [
    ("support", "forsorjningsstod", "kommun", "cost", "110000", "Socialtjänstens statistik"),
    ("support", "forsorjningsstod", "individual", "revenue", "110000", "Utbetalt bistånd"),
    ("work", "ej_subventionerat", "kommun", "revenue", "54000", "Kommunalskatt, 60 %"),
    ("work", "ej_subventionerat", "region", "revenue", "22500", "Regionskatt, 25 %"),
    ("work", "ej_subventionerat", "state", "revenue", "13500", "Statlig skatt och avgifter, 15 %"),
    ("work", "ej_subventionerat", "individual", "revenue", "250000", "Nettolön"),
]
EXIT_DAY = date(2024, 3, 15)
PERIOD = {"exited_from": "2024-01-01", "exited_to": "2024-12-31"}


def price_rows(prices=WORKED_PRICES) -> list[tuple[str, dict]]:
    """Return price rows as the operations take them."""
    keys = ("variable", "code", "actor", "kind", "amount", "source")
    return [(f"rad {i}", dict(zip(keys, row, strict=True))) for i, row in enumerate(prices, 1)]


def make_price_list(name="Prislista", year=2024, prices=WORKED_PRICES):
    """Create a price list and commit it."""
    price_list = ops.create_price_list(name=name, year=year, rows=price_rows(prices))
    db.session.commit()
    return price_list


def exited_participant(programme, *, working: bool, follow_up: bool = True, exit_state=None):
    """One participant on försörjningsstöd at intake, exited in March 2024; at the 12-month
    follow-up either in unsubsidised work or still on försörjningsstöd."""
    after = (
        {"support": ["ingen_offentlig"], "occupation": "arbete", "work": "ej_subventionerat"}
        if working
        else {"support": ["forsorjningsstod"], "occupation": "arbetssokande_utan_sysselsattning"}
    )
    registrations = {
        "intake": {
            "support": ["forsorjningsstod"],
            "occupation": "arbetssokande_utan_sysselsattning",
            "work": "uppgift_saknas",
        },
        "exit": {
            "registered_on": EXIT_DAY,
            "exit_reason": "arbete" if working else "fortsatt_rehabilitering",
            **(exit_state or {"support": ["forsorjningsstod"]}),
        },
    }
    if follow_up:
        registrations["follow_up_12"] = {"registered_on": date(2025, 3, 15), **after}
    return make_sus_participant(
        programme_id=programme.id, enrolled_on=date(2023, 3, 1), registrations=registrations
    )


def worked_example():
    """The §13 example: 10 exited participants, C = 60,000 each split by the finsam shares,
    4 in unsubsidised work and 6 still on försörjningsstöd after 12 months."""
    programme = make_programme(name="Steg för steg")
    ops.save_programme_cost(programme, {"year": "2024", "cost_per_participant": "60000"})
    db.session.commit()
    for i in range(10):
        exited_participant(programme, working=i < 4)
    return programme, make_price_list()


def page_text(html: str) -> str:
    """The page's text without tags, spaces normalised (digit grouping becomes a space)."""
    text = re.sub(r"<[^>]+>", " ", html)
    text = text.replace("\xa0", " ").replace("\u202f", " ").replace("&nbsp;", " ")
    return " ".join(text.split())


def table_row(html: str, label: str, table_id: str = "figures-table") -> str:
    """The text of the row of a table whose header cell is the label."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    for row in table.split("<tr")[1:]:
        if f">{label}</th>" in row:
            return page_text("<tr" + row)
    raise AssertionError(f"no row {label!r}")


def saved_calculation(programme, price_list):
    """A saved cohort calculation: one participant of the programme exited in 2024 (the
    programme's 2024 cost is entered when missing)."""
    from coordination.socioeconomics import queries

    if not any(c.year == 2024 for c in queries.programme_costs(programme.id)):
        ops.save_programme_cost(programme, {"year": "2024", "cost_per_participant": "60000"})
    exited_participant(programme, working=True)
    report = queries.run_cohort({**PERIOD, "price_list_id": str(price_list.id)}, programme)
    saved = ops.save_calculation(report)
    db.session.commit()
    return saved
