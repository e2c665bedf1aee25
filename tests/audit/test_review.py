"""The log review pages: by person, by user, samples with sign-off.

The register extract is the registrar's (tests/audit/test_extract.py).
"""

from tests.factories import PASSWORD, make_referral, make_user


def _auditor_client(client):
    auditor = make_user("auditor")
    client.login(auditor.email, PASSWORD)
    return auditor


def test_who_has_looked_at_a_person(client):
    referral = make_referral("submitted", first_name="Åsa", last_name="Ängström")
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    client.get(f"/referrals/{referral.id}")
    client.post_form("/logout")
    _auditor_client(client)
    found = client.post_form("/audit/", {"identity_number": referral.identity_number})
    assert found.status_code == 302
    assert f"/audit/person/{referral.person_id}" in found.headers["Location"]
    page = client.get(found.headers["Location"]).get_data(as_text=True)
    assert f'href="/audit/user/{lead.id}"' in page
    assert "Åsa" not in found.headers["Location"]


def test_unknown_or_invalid_number_gives_a_clear_error(client):
    _auditor_client(client)
    response = client.post_form("/audit/", {"identity_number": "12345"})
    assert response.status_code == 422
    assert "Skriv ett giltigt personnummer" in response.get_data(as_text=True)


def test_only_auditors_reach_the_review(client):
    user = make_user("team_lead")
    client.login(user.email, PASSWORD)
    assert client.get("/audit/").status_code == 403


def test_sample_and_sign_off(client):
    make_referral("submitted")
    referral = make_referral("submitted")
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    client.get(f"/referrals/{referral.id}")
    client.post_form("/logout")
    _auditor_client(client)
    checked = client.post_form("/audit/chain")
    assert checked.status_code == 302
    assert "Loggkedjan är hel" in client.get("/audit/").get_data(as_text=True)
    drawn = client.post_form("/audit/samples", {"size": "5"})
    assert drawn.status_code == 302
    sample_url = drawn.headers["Location"]
    assert "Utvalda rader" in client.get(sample_url).get_data(as_text=True)
    empty = client.post_form(sample_url, {"finding": "  "})
    assert empty.status_code == 422
    signed = client.post_form(sample_url, {"finding": "Alla åtkomster hade stöd i ärenden."})
    assert signed.status_code == 302
    page = client.get(sample_url).get_data(as_text=True)
    assert "Signerat" in page and "Alla åtkomster hade stöd" in page


def test_the_review_page_shows_the_grants_once_and_has_a_plain_title(client):
    import re

    _auditor_client(client)
    page = client.get("/audit/").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title and "Loggkontroll" in title
    assert page.count('id="heading-grants"') == 1
