"""The caseload as a workbench (issue 20): search by name or case number in SQL, the saved filter,
the wide layout on lists and case work but not on forms, the menu button, the exit from the case
page, the personnummer with its hyphen and one status for a past meeting."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from coordination.cases import caseload as reads
from coordination.core.i18n import local_today
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    admit_case,
    make_conference,
    make_user,
    record_meeting,
)
from workflows.calendar import WorkingCalendar

CALENDAR = WorkingCalendar()


def _rows(page: str) -> list[str]:
    """The people listed in the caseload's table, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return re.findall(r'<a href="/cases/\d+">(?:<span[^>]*>[^<]*</span> )?([^<]+)</a>', body)


def _search(client, text: str, **fields) -> str:
    response = client.post_form("/cases/", {"q": text, **fields})
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.fixture()
def world():
    """A team lead, a coordinator with three cases (one protected) and another coordinator's."""
    lead = make_user("team_lead")
    mine, other = make_user("coordinator"), make_user("coordinator")
    conference = make_conference(state="published", present="all")
    cases = {
        "berit": admit_case(
            conference=conference, coordinator=mine, first_name="Berit", last_name="Lind"
        ),
        "bertil": admit_case(
            conference=conference, coordinator=mine, first_name="Bertil", last_name="Holm"
        ),
        "hemlig": admit_case(
            conference=conference,
            coordinator=other,
            first_name="Hemlig",
            last_name="Bergström",
            protected_identity=True,
        ),
        "egen": admit_case(
            conference=conference,
            coordinator=mine,
            first_name="Egenskyddad",
            last_name="Lind",
            protected_identity=True,
        ),
    }
    return lead, mine, other, cases


def test_the_search_finds_by_name_and_by_case_number(client, world):
    lead, _mine, _other, cases = world
    client.login(lead.email, PASSWORD)
    found = _search(client, "ber")
    assert "Berit Lind" in found and "Bertil Holm" in found
    assert 'value="ber"' in found  # the field keeps the search
    both_words = _search(client, "lind berit")
    assert _rows(both_words) == ["Berit Lind"]
    by_number = _search(client, str(cases["bertil"].id))
    assert _rows(by_number) == ["Bertil Holm"]
    assert _rows(_search(client, f"#{cases['berit'].id}")) == ["Berit Lind"]
    nothing = _search(client, "Zzyzx")
    assert "Inga deltaganden matchar sökningen." in nothing
    # LIKE's wildcards are only characters.
    assert "Inga deltaganden matchar sökningen." in _search(client, "%")
    assert "Inga deltaganden matchar sökningen." in _search(client, "_")


def test_a_protected_person_is_not_found_by_name_by_one_who_may_not_see_it(client, world):
    lead, mine, _other, cases = world
    client.login(lead.email, PASSWORD)
    page = _search(client, "Bergström")
    assert "Inga deltaganden matchar sökningen." in page
    assert "Hemlig" not in page
    page = _search(client, "Lind")
    assert _rows(page) == ["Berit Lind"]  # not the protected Lind
    # The code shown in place of the name finds the case, without the name.
    code = cases["hemlig"].person.code
    page = _search(client, code)
    assert _rows(page) == [code] and "Bergström" not in page
    # The assigned coordinator sees the name, so finds it by name.
    client.post_form("/logout")
    client.login(mine.email, PASSWORD)
    page = _search(client, "Egenskyddad")
    assert _rows(page) == ["Egenskyddad Lind"]


def test_paging_a_search_loses_and_repeats_no_row(world):
    lead, _mine, _other, _cases = world
    conference = make_conference(state="published", present="all")
    third = make_user("coordinator")
    for i in range(5):
        admit_case(conference=conference, coordinator=third, first_name=f"Bernt{i}", last_name="Ek")
    admit_case(conference=conference, coordinator=third, first_name="Annan", last_name="Ek")
    for sort in ("id", "warnings", "coordinator", "days"):
        for descending in (False, True):
            flt = reads.CaseloadFilter(sort=sort, descending=descending, search="ber")
            today = local_today()
            whole = reads.caseload_page(lead, flt, today=today, calendar=CALENDAR, size=100)
            everyone = [r.case.id for r in whole.rows]
            assert len(everyone) == 7 and whole.total == 7  # Berit, Bertil, 5 Bernt
            pages = [reads.caseload_page(lead, flt, today=today, calendar=CALENDAR, size=2)]
            while pages[-1].next is not None:
                pages.append(
                    reads.caseload_page(
                        lead, flt, today=today, calendar=CALENDAR, size=2, after=pages[-1].next
                    )
                )
            assert [r.case.id for p in pages for r in p.rows] == everyone
            assert [p.first for p in pages] == [1, 3, 5, 7]
            back = reads.caseload_page(
                lead, flt, today=today, calendar=CALENDAR, size=2, before=pages[-1].previous
            )
            assert [r.case.id for r in back.rows] == [r.case.id for r in pages[-2].rows]


def test_the_caseload_remembers_the_last_filter_until_it_is_reset(client, world):
    lead, mine, _other, _cases = world
    client.login(lead.email, PASSWORD)
    _search(client, "Bertil", coordinator_id=str(mine.id), sort="id", dir="asc")
    again = client.get("/cases/").get_data(as_text=True)
    assert _rows(again) == ["Bertil Holm"]
    assert 'value="Bertil"' in again
    assert f'<option value="{mine.id}" selected>' in again
    assert "Återställ filter" in again
    # A sort link keeps the search and the coordinator, and is remembered in turn.
    sorted_page = client.get(f"/cases/?sort=state&dir=asc&coordinator_id={mine.id}")
    assert _rows(sorted_page.get_data(as_text=True)) == ["Bertil Holm"]
    # The search never rides in a link.
    assert "Bertil" not in "".join(re.findall(r'href="([^"]*)"', again))
    reset = client.get("/cases/?reset=1")
    assert reset.status_code == 302
    page = client.get(reset.headers["Location"]).get_data(as_text=True)
    assert "Återställ filter" not in page
    assert {"Berit Lind", "Bertil Holm"} <= set(_rows(page))


def test_the_warnings_come_first_in_a_compact_wide_table(client, world):
    lead, *_ = world
    client.login(lead.email, PASSWORD)
    page = client.get("/cases/").get_data(as_text=True)
    assert "container--wide" in page and 'data-width="wide"' in page
    assert 'class="table table--dense"' in page
    headers = re.findall(r'<th scope="col"[^>]*>\s*<a [^>]*>([^<]+)</a>', page)
    assert headers[0] == "Varningar" and headers[1] == "Deltagare"
    assert 'role="search"' in page and 'for="field-q"' in page
    # A table wider than a small screen scrolls in a labelled region reachable by keyboard.
    assert (
        '<div class="table-wrap" role="region" tabindex="0" aria-labelledby="caseload-caption">'
        in page
    )
    assert 'id="caseload-caption"' in page


def test_the_plans_action_table_keeps_its_save_button_in_a_wrapping_cell(client, world):
    from tests.factories import make_agency_user, make_plan

    _lead, _mine, _other, cases = world
    case = cases["berit"]
    contact = make_agency_user("af")
    make_plan(case, contact=contact, signed=True)
    client.login(contact.email, PASSWORD)
    page = client.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert 'class="inline-form status-form"' in page
    assert '<td class="table__actions">' in page
    css = client.get("/static/app.css").get_data(as_text=True)
    assert ".status-form {" in css and "flex-wrap: wrap" in css


def test_lists_and_case_work_are_wide_and_forms_keep_the_reading_width(client, world):
    lead, _mine, _other, cases = world
    client.login(lead.email, PASSWORD)
    case_id = cases["berit"].id
    for url in ("/cases/", "/cases/queue", f"/cases/{case_id}", f"/cases/{case_id}/plan"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'data-width="wide"' in page.get_data(as_text=True), url
    form = client.get(f"/cases/{case_id}/exit").get_data(as_text=True)
    assert 'data-width="reading"' in form and "container--wide" not in form


def test_the_menu_button_controls_the_navigation(client, world):
    lead, *_ = world
    client.login(lead.email, PASSWORD)
    page = client.get("/cases/").get_data(as_text=True)
    button = re.search(r"<button class=\"nav__toggle\"[^>]*>", page).group(0)
    assert 'aria-controls="main-menu"' in button and 'aria-expanded="true"' in button
    assert 'type="button"' in button
    assert " hidden" in button  # shown by the script only: without it the menu stays open
    assert '<ul class="nav__list" id="main-menu">' in page
    assert "<script>" not in page  # the CSP allows script files only
    script = client.get("/static/app.js").get_data(as_text=True)
    assert "aria-expanded" in script and "data-nav-toggle" in script


def test_the_case_page_leads_to_the_exit_for_those_allowed(client, world):
    lead, mine, other, cases = world
    case = cases["berit"]
    client.login(mine.email, PASSWORD)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}/exit"' in page and "Avsluta deltagandet" in page
    assert client.get(f"/cases/{case.id}/exit").status_code == 200
    client.post_form("/logout")
    referrer = case.referral.referrer
    client.login(referrer.email, PASSWORD)
    seen = client.get(f"/cases/{case.id}")
    if seen.status_code == 200:
        assert "Avsluta deltagandet" not in seen.get_data(as_text=True)


def test_the_personnummer_is_shown_with_its_hyphen(client, world):
    _lead, mine, _other, cases = world
    person = cases["berit"].person
    number = person.identity_number
    client.login(mine.email, PASSWORD)
    page = client.get(f"/cases/{cases['berit'].id}").get_data(as_text=True)
    assert f"{number[:8]}-{number[8:]}" in page
    assert number not in page


def test_a_past_meeting_shows_its_attendance_not_booked(client, world):
    _lead, mine, _other, cases = world
    case = cases["berit"]
    missed = record_meeting(case.id, datetime.now(UTC) - timedelta(days=3), "missed")
    record_meeting(case.id, datetime.now(UTC) - timedelta(days=1), None)
    db.session.commit()
    client.login(mine.email, PASSWORD)
    page = client.get(f"/meetings/cases/{case.id}").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    missed_row = next(r for r in rows if f"/meetings/{missed.id}" in r)
    assert "Uteblev" in missed_row and "Bokat" not in missed_row
    assert any("Bokat" in r and "/meetings/" in r for r in rows if r != missed_row)
    detail = client.get(f"/meetings/{missed.id}").get_data(as_text=True)
    lead_line = re.search(r'<p class="lead">(.*?)</p>', detail, re.S).group(1)
    assert "Uteblev" in lead_line and "Bokat" not in lead_line


@pytest.mark.parametrize("text", ["Zq7nul\x00byte", "x" * 5000, "\\%_", "2147483648"])
def test_a_hostile_search_is_no_server_error(client, world, text):
    lead, *_ = world
    client.login(lead.email, PASSWORD)
    for url in ("/cases/", "/referrals/"):
        posted = client.post_form(url, {"q": text})
        assert posted.status_code < 500, url
        if posted.status_code == 302:
            assert client.get(posted.headers["Location"]).status_code < 500, url


def test_the_personnummer_filter_writes_the_hyphen_and_leaves_other_text():
    from coordination.core.formats import identity_number_text

    assert identity_number_text("198501011234") == "19850101-1234"
    assert identity_number_text("19850101-1234") == "19850101-1234"
    assert identity_number_text("850101-1234") == "850101-1234"  # typed in a draft: as typed
    assert identity_number_text(None) == ""


def test_a_searched_caseload_sends_as_many_statements_at_n_and_3n_cases(client):
    from tests.cases.test_querycount import _busy_case, _statements

    lead = make_user("team_lead")
    conference = make_conference(state="published", present="all")
    ids = (make_user("coordinator").id, conference.id)
    for _ in range(2):
        _busy_case(*ids)
    client.login(lead.email, PASSWORD)
    client.post_form("/cases/", {"q": "Testa"})  # every case's person is Testa Testsson
    at_n = _statements(client.get, "/cases/")
    for _ in range(4):
        _busy_case(*ids)
    page = client.get("/cases/").get_data(as_text=True)
    assert len(_rows(page)) == 6
    assert _statements(client.get, "/cases/") == at_n
