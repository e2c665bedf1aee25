"""Sending an empty referral form (issue 20): the errors are shown and nothing is saved."""

import re

from sqlalchemy import func, select

from coordination.extensions import db
from coordination.people.models import Person
from coordination.referrals.models import Referral
from tests.factories import PASSWORD, make_programme, make_user


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_sending_an_empty_form_saves_no_draft_and_shows_the_errors(client):
    programme = make_programme()  # the only one: chosen already on the form
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    before = (_count(Referral), _count(Person))
    response = client.post_form(
        "/referrals/new", {"programme_id": str(programme.id), "action": "submit"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "data-error-summary" in page
    for message in ("Ange personnummer", "Ange förnamn.", "Ange efternamn."):
        assert message in page
    assert "inget är sparat" in page
    db.session.expire_all()
    assert (_count(Referral), _count(Person)) == before


def test_the_referral_form_uses_the_date_field_with_its_hint(client):
    make_programme()
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    page = client.get("/referrals/new").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="field-consent_given_on"[^>]*>', page).group(0)
    assert 'type="text"' in field and 'autocomplete="off"' in field
    assert "Skriv datumet som ÅÅÅÅ-MM-DD." in page
    assert 'type="date"' not in page  # one date pattern: no native picker beside the text fields


def _search(client, text: str) -> str:
    response = client.post_form("/referrals/", {"q": text})
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_referral_list_searches_by_name_and_number_not_a_hidden_name(client):
    from tests.factories import make_referral

    lead = make_user("team_lead")
    greta = make_referral("submitted", first_name="Greta", last_name="Sund")
    make_referral("submitted", first_name="Olle", last_name="Berg")
    hidden = make_referral(
        "submitted", first_name="Gömd", last_name="Sundin", protected_identity=True
    )
    client.login(lead.email, PASSWORD)
    found = _search(client, "sund")
    assert f"/referrals/{greta.id}" in found and "Olle" not in found
    assert f"/referrals/{hidden.id}" not in found and "Gömd" not in found
    assert 'value="sund"' in found and "Återställ filter" in found
    assert not [h for h in re.findall(r'href="([^"]*)"', found) if "sund" in h.lower()]
    by_number = _search(client, str(hidden.id))
    assert f"/referrals/{hidden.id}" in by_number and "Gömd" not in by_number
    assert "Inga remisser matchar sökningen." in _search(client, "Zzyzx")
    reset = client.get("/referrals/?reset=1")
    everything = client.get(reset.headers["Location"]).get_data(as_text=True)
    assert "Olle" in everything and "Återställ filter" not in everything
