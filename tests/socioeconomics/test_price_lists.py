"""Price lists: loaded from CSV and YAML all or nothing, edited on a page, versioned."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from coordination.core.errors import Conflict, ValidationFailed
from coordination.extensions import db
from coordination.socioeconomics import files
from coordination.socioeconomics import operations as ops
from coordination.socioeconomics.models import PriceEntry, PriceList
from tests.factories import PASSWORD, make_user, token_headers
from tests.socioeconomics.worked import make_price_list

GOOD_CSV = (
    "variable,code,actor,kind,amount,source\n"
    "support,forsorjningsstod,kommun,cost,110000,Socialtjänsten\n"
    "work,ej_subventionerat,kommun,revenue,54 000,Kommunalskatt\n"
)
BAD_CSV = (
    "variable;code;actor;kind;amount;source\n"
    "support;forsorjningsstod;kommun;cost;110000;ok\n"
    "support;forsorjningsstod;kommun;cost;-5;negative\n"
    "shoe;astronaut;king;gift;12.5;\n"
    "support;inte_en_kod;region;cost;1;\n"
)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(PriceList)) or 0


def test_a_csv_file_loads_as_a_new_version():
    first = files.load_price_file("p.csv", GOOD_CSV.encode(), name="Dalby", year=2024)
    second = files.load_price_file("p.csv", GOOD_CSV.encode(), name="Dalby", year="2024")
    assert (first.version, second.version) == (1, 2)
    assert [(e.code, e.actor, e.kind, e.amount) for e in first.entries] == [
        ("forsorjningsstod", "kommun", "cost", 110_000),
        ("ej_subventionerat", "kommun", "revenue", 54_000),
    ]
    assert first.entries[0].source == "Socialtjänsten"


def test_a_bad_row_reports_every_problem_and_saves_nothing():
    before = _count()
    with pytest.raises(ValidationFailed) as refused:
        files.load_price_file("p.csv", BAD_CSV.encode(), name="Dalby", year=2024)
    problems = refused.value.errors["entries"]
    assert any(p.startswith("rad 3:") and "negativt" in p for p in problems)
    assert any(p.startswith("rad 4:") and "variabeln" in p for p in problems)
    assert any(p.startswith("rad 4:") and "aktören" in p for p in problems)
    assert any(p.startswith("rad 4:") and "hela kronor" in p for p in problems)
    assert any(p.startswith("rad 5:") and "inte_en_kod" in p for p in problems)
    assert not any(p.startswith("rad 2:") for p in problems)
    db.session.rollback()
    assert _count() == before


def test_yaml_loads_and_a_bad_entry_is_refused():
    good = (
        "entries:\n"
        "  - {variable: support, code: sjukpenning_rehabpenning, actor: fk, kind: cost,"
        " amount: 180000, source: FK}\n"
        "  - {variable: occupation, code: arbete, actor: individual, kind: revenue, amount: 1}\n"
    )
    loaded = files.load_price_file("p.yaml", good.encode(), name="Y", year=2025)
    assert len(loaded.entries) == 2
    bad = "- {variable: support, code: a_kassa, actor: af, kind: cost, amount: -3}\n- 7\n"
    with pytest.raises(ValidationFailed) as refused:
        files.load_price_file("p.yml", bad.encode(), name="Y", year=2025)
    problems = refused.value.errors["entries"]
    assert problems[0].startswith("post 1:") and "negativt" in problems[0]
    assert problems[1].startswith("post 2:")
    for name, content in (("p.yaml", b"{not: [yaml"), ("p.txt", b"x"), ("p.csv", b"a,b\n1,2\n")):
        with pytest.raises(ValidationFailed) as refused:
            files.load_price_file(name, content, name="Y", year=2025)
        assert set(refused.value.errors) == {"file"}


def test_the_name_and_year_are_checked_with_the_rows():
    with pytest.raises(ValidationFailed) as refused:
        ops.create_price_list(
            name=" ",
            year="1999",
            rows=[("rad 1", {"variable": "support", "code": "a_kassa", "actor": "af",
                             "kind": "cost", "amount": "-1"})],
        )  # fmt: skip
    assert set(refused.value.errors) == {"name", "year", "entries"}


def test_a_used_version_is_never_changed_but_can_be_copied(client):
    from tests.socioeconomics.worked import worked_example

    programme, price_list = worked_example()
    analyst = make_user("analyst")
    client.login(analyst.email, PASSWORD)
    page = f"/statistics/socio-economics/price-lists/{price_list.id}"
    assert "Spara prislistan" in client.get(page).get_data(as_text=True)
    saved = client.post_form(
        "/statistics/socio-economics/cohort/save",
        {"programme_id": programme.id, "exited_from": "2024-01-01", "exited_to": "2024-12-31",
         "price_list_id": price_list.id, "horizon_years": "5"},
    )  # fmt: skip
    assert saved.status_code == 302
    assert ops.is_used(price_list)
    html = client.get(page).get_data(as_text=True)
    assert "ändras inte" in html and "Spara prislistan" not in html
    refused = client.post_form(page, {"row_count": "1", "variable-0": "support",
                                      "code-0": "a_kassa", "actor-0": "af", "kind-0": "cost",
                                      "amount-0": "1"})  # fmt: skip
    assert refused.status_code == 409
    with pytest.raises(Conflict):
        ops.save_entries(price_list, [])
    copied = client.post_form(f"{page}/copy")
    assert copied.status_code == 302
    copy = db.session.scalar(select(PriceList).where(PriceList.based_on_id == price_list.id))
    assert (copy.version, len(copy.entries)) == (2, len(price_list.entries))
    assert copied.headers["Location"].endswith(f"/price-lists/{copy.id}")


def test_the_edit_page_saves_rows_and_shows_every_error(client):
    price_list = make_price_list(name="Redigerbar")
    analyst = make_user("analyst")
    client.login(analyst.email, PASSWORD)
    page = f"/statistics/socio-economics/price-lists/{price_list.id}"
    bad = client.post_form(
        page,
        {"row_count": "2",
         "variable-0": "support", "code-0": "a_kassa", "actor-0": "af", "kind-0": "cost",
         "amount-0": "-100", "source-0": "AF",
         "variable-1": "support", "code-1": "a_kassa", "actor-1": "nobody", "kind-1": "cost",
         "amount-1": "x"},
    )  # fmt: skip
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "Det finns fel i formuläret" in html
    assert "rad 1: Beloppet kan inte vara negativt" in html
    assert "rad 2: aktören ska vara en av" in html
    assert 'value="-100"' in html  # what was typed is kept
    db.session.expire_all()
    assert len(db.session.get(PriceList, price_list.id).entries) == 6
    good = client.post_form(
        page,
        {"row_count": "2",
         "variable-0": "support", "code-0": "a_kassa", "actor-0": "af", "kind-0": "cost",
         "amount-0": "150 000", "source-0": "AF",
         "variable-1": "support", "code-1": "a_kassa", "actor-1": "individual",
         "kind-1": "revenue", "amount-1": "150000", "delete-1": "on"},
    )  # fmt: skip
    assert good.status_code == 302
    db.session.expire_all()
    entries = db.session.scalars(
        select(PriceEntry).where(PriceEntry.price_list_id == price_list.id)
    ).all()
    assert [(e.code, e.actor, e.amount, e.source) for e in entries] == [
        ("a_kassa", "af", 150_000, "AF")
    ]


def test_the_upload_page_refuses_a_bad_file_with_row_errors(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    before = _count()
    response = client.post_form(
        "/statistics/socio-economics/price-lists",
        {"name": "Uppladdad", "year": "2024", "file": (io.BytesIO(BAD_CSV.encode()), "p.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "rad 3:" in response.get_data(as_text=True)
    assert _count() == before
    response = client.post_form(
        "/statistics/socio-economics/price-lists",
        {"name": "Uppladdad", "year": "2024", "file": (io.BytesIO(GOOD_CSV.encode()), "p.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert _count() == before + 1


def test_team_leads_read_price_lists_but_do_not_edit_them(client, api):
    price_list = make_price_list(name="Läsbar")
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    page = f"/statistics/socio-economics/price-lists/{price_list.id}"
    assert client.get(page).status_code == 200
    assert client.post_form(page, {"row_count": "0"}).status_code == 403
    headers = token_headers(lead)
    listed = api.get("/api/v1/price-lists", headers=headers).get_json()
    assert price_list.id in [p["id"] for p in listed["items"]]
    one = api.get(f"/api/v1/price-lists/{price_list.id}", headers=headers).get_json()
    assert one["used"] is False and one["version"] == 1
    assert {"variable": "support", "code": "forsorjningsstod", "actor": "kommun", "kind": "cost",
            "amount": 110_000, "source": "Socialtjänstens statistik"} in one["entries"]  # fmt: skip
    assert api.get("/api/v1/price-lists/999999", headers=headers).status_code == 404
    coordinator = make_user("coordinator")
    assert api.get("/api/v1/price-lists", headers=token_headers(coordinator)).status_code == 403


def test_the_cli_loads_a_file_and_refuses_a_bad_one(app, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    bad.write_text(BAD_CSV, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["socioeconomics", "load-price-list", str(good), "--name", "CLI", "--year", "2024"]
    )
    assert result.exit_code == 0, result.output
    assert "Loaded 2 prices as CLI 2024, v1" in result.output
    result = runner.invoke(
        args=["socioeconomics", "load-price-list", str(bad), "--name", "CLI", "--year", "2024"]
    )
    assert result.exit_code == 1
    assert "rad 3:" in result.output
