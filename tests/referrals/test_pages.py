"""A referrer writes, saves and submits a referral through the pages."""

from sqlalchemy import select

from coordination.extensions import db
from coordination.referrals.models import Referral
from tests.factories import PASSWORD, make_programme, make_referral, make_user, referral_data


def _form(data: dict) -> dict:
    form = {}
    for key, value in data.items():
        if isinstance(value, bool):
            if key == "children_in_household":
                form[key] = "yes" if value else "no"
            elif value:
                form[key] = "on"
        elif isinstance(value, list):
            form[key] = value
        elif value is None:
            form[key] = ""
        else:
            form[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return form


def test_referrer_saves_a_draft_then_submits(client):
    programme = make_programme()
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    assert client.get("/referrals/new").status_code == 200
    form = _form(referral_data()) | {"programme_id": programme.id, "action": "save"}
    response = client.post_form("/referrals/new", form)
    assert response.status_code == 302
    referral = db.session.scalar(select(Referral).where(Referral.referrer_id == user.id))
    assert referral.state == "draft"
    detail = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Utkast" in detail
    response = client.post_form(f"/referrals/{referral.id}/submit")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "submitted"
    assert "Inskickad" in client.get(f"/referrals/{referral.id}").get_data(as_text=True)


def test_a_refused_submit_shows_every_error_and_keeps_what_was_typed(client):
    programme = make_programme()
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    data = referral_data(agencies_needed=["af"], consent_given_on=None, first_name="Kvarstå")
    form = _form(data) | {"programme_id": programme.id, "action": "submit"}
    response = client.post_form("/referrals/new", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in page
    assert "minst 2 myndigheter" in page
    assert "Ange när samtycket gavs" in page
    assert 'value="Kvarstå"' in page
    referral = db.session.scalar(select(Referral).where(Referral.referrer_id == user.id))
    assert referral.state == "draft" and referral.first_name == "Kvarstå"


def test_a_mistyped_date_keeps_the_rest_of_the_draft(client):
    programme = make_programme()
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    form = _form(referral_data(first_name="Datum")) | {
        "programme_id": programme.id,
        "consent_given_on": "igår",
        "action": "save",
    }
    response = client.post_form("/referrals/new", form)
    assert response.status_code == 422
    referral = db.session.scalar(select(Referral).where(Referral.referrer_id == user.id))
    assert referral.first_name == "Datum"
    assert 'value="igår"' in response.get_data(as_text=True)


def test_another_referrer_gets_404(client):
    referral = make_referral("submitted")
    stranger = make_user("referrer")
    client.login(stranger.email, PASSWORD)
    assert client.get(f"/referrals/{referral.id}").status_code == 404


def test_attachment_upload_checks_type_and_downloads(client):
    referral = make_referral("draft")
    client.login(referral.referrer.email, PASSWORD)
    from io import BytesIO

    bad = client.post_form(
        f"/referrals/{referral.id}/attachments",
        {"file": (BytesIO(b"MZ\x90\x00"), "program.exe")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert "Filtypen tillåts inte" in bad.get_data(as_text=True)
    good = client.post_form(
        f"/referrals/{referral.id}/attachments",
        {"file": (BytesIO(b"%PDF-1.4 test"), "intyg.pdf")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    attachment = referral.attachments[0]
    download = client.get(f"/referrals/{referral.id}/attachments/{attachment.id}")
    assert download.status_code == 200
    assert download.data == b"%PDF-1.4 test"


def test_submit_without_a_programme_still_lists_every_error(client):
    make_programme()
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    response = client.post_form("/referrals/new", {"first_name": "Ny", "action": "submit"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in ("Välj insats.", "Ange efternamn.", "Ange personnummer", "Ange hemkommun."):
        assert message in page
    assert 'value="Ny"' in page


def test_a_decided_referral_links_to_the_decision(client):
    referral = make_referral("decided", outcome="recommend")
    client.login(referral.referrer.email, PASSWORD)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert f"/conferences/referrals/{referral.id}/decision" in page
    assert client.get(f"/conferences/referrals/{referral.id}/decision").status_code == 200
