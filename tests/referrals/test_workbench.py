"""Sending an empty referral form (issue 20): the errors are shown and nothing is saved."""

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
    assert 'type="date" id="field-consent_given_on"' in page
    assert "Skriv datumet som ÅÅÅÅ-MM-DD." in page
