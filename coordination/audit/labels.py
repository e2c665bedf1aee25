"""The access log's codes in words, for the auditor's pages: what was done, to what.

The log keeps its codes ("read", "packet"): they are what the chain hashes and what an export
carries. The pages show these words (Swedish by default, translatable) with the code beside them
in a title attribute; a code without a word here is shown as it is.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTIONS = {
    "activate": _l("Aktiverade"),
    "break_glass": _l("Nödåtkomst"),
    "choose": _l("Valde"),
    "create": _l("Skapade"),
    "decide": _l("Beslutade"),
    "delete": _l("Tog bort"),
    "erase": _l("Gallrade"),
    "export": _l("Exporterade"),
    "import": _l("Importerade"),
    "list": _l("Listade"),
    "login": _l("Loggade in"),
    "logout": _l("Loggade ut"),
    "print": _l("Skrev ut"),
    "read": _l("Läste"),
    "revoke": _l("Återkallade"),
    "sign_off": _l("Godkände"),
    "submit": _l("Skickade in"),
    "update": _l("Ändrade"),
    "verify": _l("Kontrollerade"),
    "withdraw": _l("Drog tillbaka"),
}

OBJECTS = {
    "access_log": _l("Åtkomstlogg"),
    "access_log_chain": _l("Loggkedja"),
    "action_plan": _l("Handlingsplan"),
    "agenda_item": _l("Punkt på dagordningen"),
    "api_token": _l("API-nyckel"),
    "attachment": _l("Bilaga"),
    "attendance": _l("Närvaro"),
    "audit_sample": _l("Stickprov"),
    "case": _l("Deltagande"),
    "case_record": _l("Deltagande"),
    "code": _l("Kod"),
    "code_list": _l("Kodlista"),
    "conference": _l("Remissgruppsmöte"),
    "consent": _l("Samtycke"),
    "coordinator_profile": _l("Samordnarprofil"),
    "day_off": _l("Ledig dag"),
    "decision": _l("Beslut"),
    "escalation": _l("Eskalering"),
    "extract_request": _l("Begäran om registerutdrag"),
    "case_task": _l("Uppgift"),
    "task": _l("Uppgift"),
    "follow_up": _l("Uppföljning"),
    "forbund": _l("Förbund"),
    "group": _l("Grupp"),
    "letterhead": _l("Brevhuvud"),
    "login": _l("Inloggning"),
    "meeting": _l("Möte"),
    "member_organisation": _l("Medlemsorganisation"),
    "notification": _l("Meddelande"),
    "organisation_unit": _l("Organisationsenhet"),
    "packet": _l("Återremisspaket"),
    "person": _l("Person"),
    "plan_version": _l("Handlingsplan"),
    "price_list": _l("Prislista"),
    "programme_cost": _l("Insatsens kostnad"),
    "referral": _l("Remiss"),
    "register_extract": _l("Registerutdrag"),
    "return_referral": _l("Återremiss"),
    "role_grant": _l("Rolltilldelning"),
    "socio_calculation": _l("Sparad samhällsekonomisk beräkning"),
    "socio_economics": _l("Samhällsekonomisk uppföljning"),
    "statistics": _l("Statistik"),
    "sus_import": _l("SUS-import"),
    "sus_participant": _l("SUS-deltagare"),
    "user": _l("Användare"),
    "user_account": _l("Användare"),
}


def action_label(code: str | None) -> str:
    """Return what was done, in words (the code itself when it has none)."""
    return str(ACTIONS[code]) if code in ACTIONS else (code or "")


def object_label(code: str | None) -> str:
    """Return what it was done to, in words (the code itself when it has none)."""
    return str(OBJECTS[code]) if code in OBJECTS else (code or "")
