"""Code lists as data: admins add codes (historical too), relabel them, reorder, load files."""

from __future__ import annotations

import io

from flask_babel import force_locale

from coordination.codes.models import Code
from coordination.codes.operations import (
    active_codes,
    all_codes,
    code_label,
    code_labels,
    valid_codes,
)
from coordination.extensions import db
from tests.factories import PASSWORD, make_user
from tests.querycount import counted_queries


def _admin(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    return admin


def test_an_admin_adds_a_historical_code_after_another(client):
    _admin(client)
    assert client.get("/admin/codes/").status_code == 200
    page = client.get("/admin/codes/support").get_data(as_text=True)
    assert "Försörjningsstöd" in page and "Lägg till en kod" in page
    response = client.post_form(
        "/admin/codes/support",
        {
            "code": "sjuk_akt_gammal",
            "label_sv": "Sjuk-/Aktivitetsersättning",
            "label_en": "",
            "after": "sjukpenning_rehabpenning",
            "historical": "on",
        },
    )
    assert response.status_code == 302
    codes = [c.code for c in all_codes("support")]
    assert codes[:3] == ["sjukpenning_rehabpenning", "sjuk_akt_gammal", "aktivitetsersattning"]
    assert "sjuk_akt_gammal" not in valid_codes("support")  # not offered in new registrations
    page = client.get("/admin/codes/support").get_data(as_text=True)
    assert "Ja, visas bara i statistiken" in page


def test_a_bad_code_shows_every_error(client):
    _admin(client)
    response = client.post_form(
        "/admin/codes/exit_reason", {"code": "Flytt!", "label_sv": "", "label_en": ""}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in html
    assert "små bokstäver" in html and "Ange den svenska benämningen." in html
    duplicate = client.post_form("/admin/codes/exit_reason", {"code": "flytt", "label_sv": "Flytt"})
    assert "Koden finns redan i listan." in duplicate.get_data(as_text=True)


def test_edit_labels_and_move_but_never_the_code(client):
    _admin(client)
    entry = next(c for c in all_codes("work") if c.code == "ej_subventionerat")
    response = client.post_form(
        f"/admin/codes/work/{entry.id}",
        {"label_sv": "Inte subventionerat arbete", "label_en": "Unsubsidised", "code": "x"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (entry.code, entry.label_sv, entry.historical) == (
        "ej_subventionerat",
        "Inte subventionerat arbete",
        False,
    )
    client.post_form(f"/admin/codes/work/{entry.id}/move", {"direction": "up"})
    db.session.expire_all()
    assert [c.code for c in active_codes("work")][:2] == ["ej_subventionerat", "uppgift_saknas"]


def test_load_codes_from_csv(client):
    _admin(client)
    content = (
        "list_name,code,label_sv,label_en,historical,after\n"
        "exit_reason,gammal_flytt,Utskrivning pga. flytt,Exit: moved,true,\n"
        "occupation,annat,Annan sysselsättning,Other,false,\n"
    ).encode()
    response = client.post_form("/admin/codes/", {"file": (io.BytesIO(content), "koder.csv")})
    assert response.status_code == 302
    page = client.get("/admin/codes/").get_data(as_text=True)
    assert "1 nya koder, 1 ändrade" in page
    added = next(c for c in all_codes("exit_reason") if c.code == "gammal_flytt")
    assert added.historical and added.label_sv == "Utskrivning pga. flytt"
    assert next(c for c in all_codes("occupation") if c.code == "annat").label_sv == (
        "Annan sysselsättning"
    )


def test_a_bad_file_loads_nothing_and_says_where(client):
    _admin(client)
    content = (
        b"exit_reason:\n"
        b"  - code: ny_orsak\n    label_sv: Ny orsak\n"
        b"  - code: Fel Kod\n    label_sv: Fel\n"
        b"  - code: tredje\n    label_sv: Tredje\n    after: finns_inte\n"
        b"forsorjning:\n  - code: x\n    label_sv: X\n"
    )
    response = client.post_form("/admin/codes/", {"file": (io.BytesIO(content), "koder.yaml")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "exit_reason, post 2: Koden får bara innehålla" in html
    assert "exit_reason, post 3: koden finns_inte att placera efter finns inte." in html
    assert "forsorjning, post 1: Det finns ingen kodlista med det namnet." in html
    assert "ny_orsak" not in {c.code for c in all_codes("exit_reason")}


def test_only_admins_edit_code_lists(client):
    user = make_user("analyst")
    client.login(user.email, PASSWORD)
    assert client.get("/admin/codes/").status_code == 403
    assert client.get("/admin/codes/nolist").status_code == 403


def test_several_code_labels_are_read_in_one_query_in_the_users_language(app):
    """Historical codes keep their label; a code missing from its list reads as itself; a code
    not given reads as nothing."""
    db.session.add(
        Code(
            list_name="support",
            code="gammal",
            label_sv="Gammalt stöd",
            label_en="Old support",
            position=99,
            historical=True,
        )
    )
    db.session.flush()
    wanted = [("support", "gammal"), ("gender", "kvinna"), ("work", "okand_kod"), ("work", None)]
    with app.test_request_context(), force_locale("sv"), counted_queries() as statements:
        labels = code_labels(wanted)
    assert len(statements) == 1
    assert labels == {
        ("support", "gammal"): "Gammalt stöd",
        ("gender", "kvinna"): "Kvinna",
        ("work", "okand_kod"): "okand_kod",
    }
    with app.test_request_context(), force_locale("en"):
        assert code_labels(wanted)[("support", "gammal")] == "Old support"
        assert code_label("gender", "kvinna") == "Woman"
        assert code_label("work", None) == "" and code_label("work", "okand_kod") == "okand_kod"
