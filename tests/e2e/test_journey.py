"""The journey of issue 10, step by step, as the people do it in a browser on the real stack.

A referrer submits; the conference admits with a written recommendation; the coordinator signs a
plan, books meetings and records three misses; the escalation reaches the referrer's inbox; the
decision is `continue`; later the exit; the return-referral PDF is downloaded and the referrer
acknowledges it. Every page on the way is screenshot and checked with axe-core (the last test lists
the serious and critical violations of every page).

The steps run in order and share `journey` (ids found on the way); a step whose predecessor failed
is skipped with the name of that step.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from coordination.core.i18n import local_today
from tests.factories import birth_for_age, identity_number
from workflows.calendar import WorkingCalendar

pytestmark = pytest.mark.e2e

PARTICIPANT = ("Maja", "Lindqvist")
RECOMMENDATION = (
    "Samordnad insats med arbetsträning via Arbetsförmedlingen och kontakt med vårdcentralen."
)

journey: dict = {}


@pytest.fixture(autouse=True)
def _in_order(request):
    """Run the steps as one journey: after a failed step the rest fail at once, naming it."""
    failed = journey.get("failed")
    if failed and "axe" not in request.node.name:
        pytest.fail(f"the journey stopped at {failed}")
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        journey["failed"] = request.node.name


def _id_from(url: str, pattern: str) -> int:
    found = re.search(pattern, url)
    assert found, f"no id in {url}"
    return int(found.group(1))


def _next_working_day(after: date) -> date:
    calendar = WorkingCalendar()
    day = after + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def _flash(page: Page, text: str) -> None:
    expect(page.get_by_role("status")).to_contain_text(text)


# --- 1. the referrer submits -----------------------------------------------------------------


def test_referrer_submits_a_referral(cast, browser):
    page = cast.referrer.page
    page.goto("/")
    browser.check(page, "referrer start page")
    page.get_by_role("link", name="Skriv en ny remiss").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny remiss")
    browser.check(page, "new referral form")

    page.get_by_label("Insats som personen remitteras till").select_option(label="Steget vidare")
    page.get_by_label("Personnummer eller samordningsnummer").fill(
        identity_number(birth_for_age(35) - timedelta(days=40), 123)
    )
    page.get_by_label("Förnamn").fill(PARTICIPANT[0])
    page.get_by_label("Efternamn").fill(PARTICIPANT[1])
    page.get_by_role("group", name="Kön").get_by_label("Kvinna").check()
    page.get_by_role("textbox", name="Telefon").fill("070-123 45 67")
    page.get_by_role("group", name="Hur vill personen bli kontaktad?").get_by_label("SMS").check()
    page.get_by_label("Hemkommun").select_option(label="Lund")
    page.get_by_label("Orsak till remissen").select_option(label="Psykiska besvär")
    needed = page.get_by_role("group", name="Vilka myndigheters stöd behöver personen?")
    for agency in ("Kommun", "Arbetsförmedlingen", "Region (hälso- och sjukvård)"):
        needed.get_by_label(agency).check()
    page.get_by_role("group", name="Nuvarande försörjning").get_by_label("Försörjningsstöd").check()
    page.get_by_label("Sysselsättning").select_option(label="Arbetssökande utan sysselsättning")
    page.get_by_label("Utbildning").select_option(label="Gymnasium")
    page.get_by_label("Tid i offentlig försörjning").select_option(label="Upp till 3 år")
    page.get_by_role("group", name="Finns det barn under 18 år i hushållet?").get_by_label(
        "Ja"
    ).check()
    page.get_by_label("Bakgrund").fill(
        "Har haft försörjningsstöd i tre år och behöver stöd från flera myndigheter samtidigt."
    )
    page.get_by_label("Fråga till remissgruppen").fill("Kan hon skrivas in i Steget vidare?")
    page.get_by_label("Datum då samtycket gavs").fill(
        (local_today() - timedelta(days=2)).isoformat()
    )
    page.get_by_role("group", name="Hur gavs samtycket?").get_by_label("Skriftligt").check()
    consent = page.get_by_role("group", name="Myndigheter som samtycket omfattar")
    for agency in (
        "Kommun",
        "Arbetsförmedlingen",
        "Försäkringskassan",
        "Region (hälso- och sjukvård)",
    ):
        consent.get_by_label(agency).check()
    kinds = page.get_by_role("group", name="Uppgifter som samtycket omfattar")
    for kind in ("Hälsa", "Socialtjänst", "Arbetsmarknad"):
        kinds.get_by_label(kind).check()
    page.get_by_role("button", name="Skicka remissen").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Remiss")
    journey["referral_id"] = _id_from(page.url, r"/referrals/(\d+)")
    expect(page.locator("main")).to_contain_text("Inskickad")
    browser.check(page, "submitted referral")


# --- 2. the conference admits with a written recommendation -----------------------------------


@contextmanager
def _meeting_started(stack, conference_id: int):
    """Let the conference's meeting have started (decisions wait for it), then put it back."""
    engine = create_engine(stack.database_url)
    try:
        with engine.begin() as conn:
            planned = conn.execute(
                text("SELECT starts_at FROM conference WHERE id = :id"), {"id": conference_id}
            ).scalar_one()
            conn.execute(
                text(
                    "UPDATE conference SET starts_at = now() - interval '1 minute' WHERE id = :id"
                ),
                {"id": conference_id},
            )
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE conference SET starts_at = :at WHERE id = :id"),
                {"at": planned, "id": conference_id},
            )
        engine.dispose()


def test_conference_admits_with_a_written_recommendation(cast, browser, stack):
    referral_id = journey["referral_id"]
    page = cast.team_lead.page
    page.goto("/")
    browser.check(page, "team lead start page")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Remissgrupp").click()
    browser.check(page, "conferences")
    page.get_by_role("link", name="Planera ett möte").click()
    browser.check(page, "plan a conference")
    page.get_by_label("Insats", exact=True).select_option(label="Steget vidare")
    page.get_by_label("Datum").fill(_next_working_day(local_today()).isoformat())
    page.get_by_label("Tid", exact=True).fill("13:00")
    page.get_by_label("Plats", exact=True).fill("Kommunhuset, sal 3")
    members = page.get_by_role("group", name="Ledamöter")
    for agency, name in (
        ("Kommun", "Lena Ledamot"),
        ("Arbetsförmedlingen", "Leo Ledamot"),
        ("Försäkringskassan", "Liv Ledamot"),
        ("Region (hälso- och sjukvård)", "Lars Ledamot"),
    ):
        members.get_by_label(agency, exact=True).select_option(label=name)
    members.get_by_label("Ordförande (samordnare)").select_option(label="Sam Samordnare")
    page.get_by_role("button", name="Planera mötet").click()
    _flash(page, "Mötet är planerat.")
    journey["conference_id"] = _id_from(page.url, r"/conferences/(\d+)")

    addable = page.get_by_label("Sätt en inskickad remiss på dagordningen")
    option = addable.locator("option", has_text=f"Remiss {referral_id},").inner_text()
    addable.select_option(label=option)
    page.get_by_role("button", name="Sätt på dagordningen").click()
    _flash(page, f"Remiss {referral_id} är satt på dagordningen.")
    page.get_by_role("button", name="Publicera dagordningen").click()
    _flash(page, "Dagordningen är publicerad.")
    for name in ("Lena Ledamot", "Leo Ledamot", "Liv Ledamot", "Lars Ledamot", "Sam Samordnare"):
        page.get_by_label(f"{name} är närvarande").check()
    page.get_by_role("button", name="Spara närvaron").click()
    _flash(page, "Närvaron är registrerad.")
    browser.check(page, "conference with agenda")

    # The meeting starts: no decision is saved before it (its time is moved back afterwards).
    with _meeting_started(stack, journey["conference_id"]):
        page.get_by_role("link", name=f"Besluta om remiss {referral_id}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Beslut om remiss {referral_id}")
        browser.check(page, "conference decision form")
        for agency, stance in (
            ("Kommun", "Socialtjänsten deltar med stöd i vardagen."),
            ("Arbetsförmedlingen", "Arbetsträning kan erbjudas."),
            ("Försäkringskassan", "Ingen pågående ersättning, deltar i planeringen."),
            ("Region (hälso- och sjukvård)", "Vårdcentralen följer upp hälsan."),
        ):
            page.get_by_label(f"Ställningstagande – {agency}").fill(stance)
        page.get_by_role("group", name="Remissgruppens beslut").get_by_label(
            "Skrivs in i insatsen"
        ).check()
        page.get_by_role("textbox", name="Gemensam rekommendation").fill(RECOMMENDATION)
        coordinator = page.get_by_label("Koordinator", exact=True)
        # The suggestion is preselected; each option shows the load ("Kim Koordinator (0 av 15)").
        kim = coordinator.locator("option", has_text="Kim Koordinator").inner_text()
        coordinator.select_option(label=kim)
        page.get_by_role("button", name="Spara beslutet").click()
        _flash(page, f"Beslutet om remiss {referral_id} är sparat.")
    browser.check(page, "conference after the decision")


def test_member_start_page_shows_the_next_conference_and_its_agenda(cast, browser):
    page = cast.member_af.page
    page.goto("/")
    section = page.get_by_role("region", name="Nästa möte i remissgruppen")
    expect(section).to_contain_text("Steget vidare")
    expect(section).to_contain_text("Kommunhuset, sal 3")
    agenda = section.get_by_role("table", name="Dagordning")
    expect(agenda.get_by_role("row", name=f"Remiss {journey['referral_id']}")).to_contain_text(
        "Beslutad"
    )
    browser.check(page, "conference member start page")


def test_analyst_start_page_shows_the_statistics(cast, browser):
    page = cast.analyst.page
    page.goto("/")
    section = page.get_by_role("region", name="Statistik")
    expect(section.get_by_role("link", name="Alla rapporter")).to_be_visible()
    browser.check(page, "analyst start page")


def test_language_switch_and_swedish_dates_in_stockholm_time(cast, browser, stack):
    """English, then Swedish again; times are Europe/Stockholm in Swedish format either way."""
    conference_id = journey["conference_id"]
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            starts_at = conn.execute(
                text("SELECT starts_at FROM conference WHERE id = :id"), {"id": conference_id}
            ).scalar_one()
    finally:
        engine.dispose()
    local = starts_at.astimezone(ZoneInfo("Europe/Stockholm"))
    assert local.strftime("%H:%M") == "13:00"  # booked as 13:00 Swedish time
    assert starts_at.astimezone(UTC).strftime("%H:%M") != "13:00"  # stored in UTC

    page = cast.team_lead.page
    page.goto(f"/conferences/{conference_id}")
    switch = page.get_by_role("group", name="Välj språk")
    switch.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()
    expect(page.locator("main")).to_contain_text(local.strftime("%Y-%m-%d 13:00"))
    browser.check(page, "conference in English")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Sam Samordnare!")
    browser.check(page, "team lead start page in English")

    page.get_by_role("group", name="Choose language").get_by_role("button", name="Svenska").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Sam Samordnare!")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    page.goto(f"/conferences/{conference_id}")
    when = page.locator("dt:text-is('Tid') + dd")
    expect(when).to_have_text(local.strftime("%Y-%m-%d 13:00"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Remissgruppens möte {local:%Y-%m-%d} 13:00"
    )


def test_referrer_reads_the_decision_in_the_inbox(cast, browser):
    page = cast.referrer.page
    page.goto("/inbox")
    item = page.get_by_role("link", name=re.compile("beslut", re.I)).first
    expect(item).to_be_visible(timeout=30_000)  # delivered by the worker
    browser.check(page, "referrer inbox with the decision")
    page.goto(f"/conferences/referrals/{journey['referral_id']}/decision")
    expect(page.locator("main")).to_contain_text(RECOMMENDATION)
    expect(page.locator("main")).to_contain_text("Skrivs in i insatsen")
    browser.check(page, "decision with the joint recommendation")


# --- 3. the coordinator draws up the joint plan; the parties sign it ---------------------------


def test_coordinator_draws_up_the_plan_and_the_parties_sign_it(cast, browser):
    page = cast.coordinator.page
    page.goto("/")
    browser.check(page, "coordinator start page")
    section = page.get_by_role("region", name="Dina deltaganden")
    section.get_by_role("link", name="1 deltagande i din ärendelista").click()
    browser.check(page, "caseload")
    page.get_by_role("link", name=" ".join(PARTICIPANT)).click()
    journey["case_id"] = case_id = _id_from(page.url, r"/cases/(\d+)")
    browser.check(page, "case")
    page.get_by_role("link", name="Öppna handlingsplanen").click()
    page.get_by_role("link", name="Påbörja handlingsplanen").click()
    browser.check(page, "new joint action plan")
    today = local_today()
    page.get_by_label("Deltagarens eget mål").fill("Jag vill jobba med djur.")
    page.get_by_label("Långsiktigt mål (arbete eller studier)").fill("Arbete inom djurvård.")
    goal = page.get_by_role("group", name="Delmål 1")
    goal.get_by_label("Delmål", exact=True).fill("Arbetsträning tre dagar i veckan.")
    goal.get_by_label("Nås senast").fill((today + timedelta(days=60)).isoformat())
    action = page.get_by_role("group", name="Insats 1")
    action.get_by_label("Vad").fill("Stöd i vardagen och kontakt med socialtjänsten.")
    action.get_by_label("Ansvarig myndighet").select_option(label="Kommun")
    contact = action.get_by_label("Kontaktperson")
    contact.select_option(label=contact.locator("option", has_text="Rut Remittent").inner_text())
    action.get_by_label("Start").fill(today.isoformat())
    action.get_by_label("Klar senast").fill((today + timedelta(days=90)).isoformat())
    page.get_by_label("Myndighet med samlat ansvar").select_option(label="Kommun")
    page.get_by_label("Planerat avslut").fill((today + timedelta(days=180)).isoformat())
    page.get_by_label("Steg mot avslut").fill("Arbetsträningen övergår i anställning.")
    page.get_by_role("button", name="Spara handlingsplanen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gemensam handlingsplan")

    page.get_by_role("group", name="Godkännande för").get_by_label("Deltagaren").check()
    page.get_by_role("group", name=re.compile("^Hur deltagaren godkände planen")).get_by_label(
        "Vid ett möte"
    ).check()
    page.get_by_role("button", name="Registrera godkännandet").click()
    _flash(page, "Godkännandet för Deltagaren är registrerat.")
    browser.check(page, "plan signed by the participant")

    # The municipality signs through its staff: the referrer.
    referrer = cast.referrer.page
    referrer.goto(f"/cases/{case_id}/plan")
    referrer.get_by_role("group", name="Godkännande för").get_by_label("Kommun").check()
    referrer.get_by_role("button", name="Registrera godkännandet").click()
    _flash(referrer, "Godkännandet för Kommun är registrerat.")
    expect(referrer.locator("main")).to_contain_text("Version 1: ")
    browser.check(referrer, "plan signed by every party")


# --- 4. meetings, three misses and the escalation ------------------------------------------------


def test_coordinator_books_meetings_and_records_three_misses(cast, browser):
    case_id = journey["case_id"]
    page = cast.coordinator.page
    for n, days_ago in enumerate((3, 2, 1), start=1):
        page.goto(f"/cases/{case_id}")
        page.get_by_role("link", name="Boka möte").click()
        if n == 1:
            browser.check(page, "book a meeting")
        page.get_by_role("group", name="Slags möte").get_by_label("Coachningssamtal").check()
        page.get_by_label("Datum").fill((local_today() - timedelta(days=days_ago)).isoformat())
        page.get_by_label("Börjar").fill("10:00")
        page.get_by_label("Slutar").fill("11:00")
        page.get_by_label("Plats eller länk till videomötet").fill("Samordningsförbundet, rum 2")
        page.get_by_role("button", name="Boka och skicka kallelse").click()
        _flash(page, "Mötet är bokat")
        expect(page.get_by_role("heading", level=1)).to_contain_text("10:00")
        page.get_by_role("group", name="Närvaro").get_by_label("Uteblev").check()
        page.get_by_role("button", name="Spara närvaron").click()
        _flash(page, "Närvaron är registrerad.")
        if n == 1:
            browser.check(page, "meeting with the first miss")
    _flash(page, "Gränsen för uteblivna möten är nådd")
    browser.check(page, "meeting with the third miss")
    page.goto(f"/meetings/cases/{case_id}")
    browser.check(page, "case meetings with the escalation")


def test_escalation_reaches_the_referrer_who_decides_to_continue(cast, browser):
    page = cast.referrer.page
    page.goto("/")
    section = page.get_by_role("region", name="Att göra")
    expect(section).to_contain_text(f"Besluta om eskaleringen för deltagande {journey['case_id']}")
    page.goto("/inbox")
    item = page.get_by_role("link", name=re.compile("uteblivna möten|eskal", re.I)).first
    expect(item).to_be_visible(timeout=30_000)  # delivered by the worker
    browser.check(page, "referrer inbox with the escalation")
    item.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Eskalering för deltagande {journey['case_id']}"
    )
    browser.check(page, "escalation")
    page.get_by_role("group", name="Beslut").get_by_label("Fortsätta med reviderad plan").check()
    page.get_by_label("Kommentar").fill("Vi fortsätter; koordinatorn gör hembesök.")
    page.get_by_role("button", name="Registrera beslutet").click()
    _flash(page, "Beslutet är registrerat.")
    browser.check(page, "case meetings after the decision")


# --- 5. the exit, the return referral and its acknowledgement ------------------------------------


def test_coordinator_registers_the_exit_and_sends_the_return_referral(cast, browser):
    case_id = journey["case_id"]
    page = cast.coordinator.page
    page.goto("/")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Avslut och återremisser"
    ).click()
    browser.check(page, "exits")
    page.get_by_role("link", name=f"Registrera avslut för deltagande {case_id}").click()
    browser.check(page, "register the exit")
    page.get_by_label("Avslutsanledning").select_option(index=1)
    page.get_by_role("group", name="Försörjning vid avslutet").get_by_role("checkbox").first.check()
    page.get_by_label("Sysselsättning vid avslutet").select_option(index=1)
    page.get_by_role("group", name="Arbete vid avslutet").get_by_role("radio").first.check()
    page.get_by_role("button", name="Registrera avslutet").click()
    journey["return_referral_id"] = _id_from(page.url, r"/return-referrals/(\d+)")
    browser.check(page, "return referral draft")
    page.get_by_role("link", name="Komplettera återremissen").click()
    for textbox in page.get_by_role("textbox").all():
        if not textbox.input_value().strip():
            textbox.fill("Se handlingsplanen och mötena.")
    page.get_by_role("button", name="Spara återremissen").click()
    page.get_by_label(re.compile("^Jag har läst igenom återremissen")).check()
    page.get_by_role("button", name="Underteckna och skicka återremissen").click()
    expect(page.locator("main")).to_contain_text("Skickad till remittenten")
    browser.check(page, "return referral sent")


def test_referrer_downloads_the_return_referral_and_acknowledges_it(cast, browser):
    page = cast.referrer.page
    page.goto("/")
    packet = page.get_by_role("region", name="Att göra").get_by_role(
        "link", name=f"Kvittera återremissen för remiss {journey['referral_id']}"
    )
    expect(packet).to_be_visible()
    browser.check(page, "referrer start page with a packet to acknowledge")
    packet.click()
    browser.check(page, "return referral packet")
    # The PDF link, fetched with the referrer's own browser session (the PDF opens inline).
    href = page.get_by_role("link", name="Dokumentet som PDF").get_attribute("href")
    pdf = page.context.request.get(href)
    assert pdf.ok, pdf.status
    assert pdf.headers["content-type"].startswith("application/pdf"), pdf.headers
    assert pdf.body().startswith(b"%PDF-"), pdf.body()[:20]
    page.get_by_role("button", name="Kvittera mottagandet").click()
    _flash(page, "Du har kvitterat att du har tagit emot paketet.")
    expect(page.locator("main")).to_contain_text(f"av {cast.referrer.name}.")
    expect(page.get_by_role("button", name="Kvittera mottagandet")).to_have_count(0)
    browser.check(page, "return referral acknowledged")


# --- axe over every page of the journey --------------------------------------------------------


def test_no_serious_or_critical_axe_violation_on_any_page_of_the_journey(axe_results):
    """Runs last, also after a failed step: every page visited above, each with its report."""
    assert axe_results, "no page was checked"
    failing = [r for r in axe_results if r.violations]
    assert not failing, "axe-core found serious or critical violations:\n" + "\n".join(
        r.describe() for r in failing
    )
