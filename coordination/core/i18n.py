"""Language choice, labels for codes and states, and Swedish date formatting."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, request, session
from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workflows.calendar import STOCKHOLM


def local_today(now: datetime | None = None) -> date:
    """Return the date in Europe/Stockholm (today, or at `now`)."""
    from coordination.core.db import utcnow

    return (now or utcnow()).astimezone(STOCKHOLM).date()


LANGUAGES = {"sv": "Svenska", "en": "English"}

LABELS: dict[str, dict[str, object]] = {
    "state": {
        "draft": _l("Utkast"),
        "submitted": _l("Inskickad"),
        "completion_requested": _l("Komplettering begärd"),
        "on_agenda": _l("På dagordningen"),
        "decided": _l("Beslutad"),
        "withdrawn": _l("Återtagen"),
        # Conferences (ett möte) and cases (ett deltagande).
        "planned": _l("Planerat"),
        "published": _l("Dagordningen publicerad"),
        "cancelled": _l("Inställt"),
        "waiting": _l("I kö"),
        "enrolled": _l("Inskrivet"),
        "active": _l("Aktivt"),
        "paused": _l("Uppehåll"),
        "exiting": _l("Under avslut"),
        "closed": _l("Avslutat"),
        # Return referrals (återremisser, ../shared/DOMAIN.md §9).
        "finalised": _l("Undertecknad"),
        "delivered": _l("Skickad till remittenten"),
        "acknowledged": _l("Kvitterad"),
    },
    "action": {
        "create": _l("Utkast skapat"),
        "edit": _l("Ändrad"),
        "submit": _l("Skickad"),
        "request_completion": _l("Komplettering begärd"),
        "put_on_agenda": _l("Satt på dagordningen"),
        "remove_from_agenda": _l("Borttagen från dagordningen"),
        "decide": _l("Beslutad"),
        "withdraw": _l("Återtagen"),
    },
    "case_action": {
        "admit": _l("Antagen av remissgruppen"),
        "enrol": _l("Inskriven från kön"),
        "activate": _l("Planen undertecknad"),
        "pause": _l("Uppehåll"),
        "resume": _l("Återupptaget"),
        "start_exit": _l("Avslut påbörjat"),
        "close": _l("Avslutat"),
    },
    # Cases and the joint action plan (../shared/DOMAIN.md §7, §9).
    "pause_reason": {
        "illness": _l("Sjukdom"),
        "parental_leave": _l("Föräldraledighet"),
        "other": _l("Annan orsak"),
    },
    "case_warning": {
        "escalated": _l("Eskalerat efter uteblivna möten"),
        "plan_unsigned": _l("Planen är inte godkänd 20 arbetsdagar efter inskrivningen"),
        "review_overdue": _l("Planens uppföljning är försenad"),
        "near_max_duration": _l("Nära insatsens längsta tid"),
        "over_max_duration": _l("Över insatsens längsta tid"),
    },
    "plan_state": {
        "draft": _l("Under arbete"),
        "signing": _l("Godkänns"),
        "signed": _l("Gäller"),
        "superseded": _l("Ersatt"),
    },
    "action_status": {
        "planned": _l("Planerad"),
        "ongoing": _l("Pågår"),
        "done": _l("Klar"),
        "cancelled": _l("Struken"),
    },
    "goal_status": {
        "reached": _l("Nått"),
        "partly_reached": _l("Delvis nått"),
        "not_reached": _l("Inte nått"),
    },
    "goal_occasion": {
        "review": _l("vid uppföljning av planen"),
        "exit": _l("vid avslut"),
    },
    "sign_off_method": {
        "in_person": _l("Vid ett möte"),
        "phone": _l("Per telefon"),
        "digital": _l("Digitalt"),
    },
    "plan_change": {
        "added": _l("Ny"),
        "removed": _l("Borttagen"),
        "changed": _l("Ändrad"),
        "same": _l("Oförändrad"),
    },
    "outcome": {
        "admit": _l("Skrivs in i insatsen"),
        "recommend": _l("Skrivs inte in: gemensam rekommendation"),
    },
    "agenda_status": {
        "pending": _l("Väntar på beslut"),
        "decided": _l("Beslutad"),
        "sent_back": _l("Skickad tillbaka för komplettering"),
        "withdrawn": _l("Återtagen av remittenten"),
        "removed": _l("Flyttad till nästa möte"),
    },
    "agenda_origin": {
        "cutoff": _l("Vid brytdagen"),
        "manual": _l("Tillagd för hand"),
    },
    "member_role": {
        "member": _l("Ledamot"),
        "chair": _l("Ordförande"),
    },
    "agency": {
        "kommun": _l("Kommun"),
        "af": _l("Arbetsförmedlingen"),
        "fk": _l("Försäkringskassan"),
        "region": _l("Region (hälso- och sjukvård)"),
        "forbund": _l("Samordningsförbundet"),
    },
    "role": {
        "referrer": _l("Remittent (handläggare)"),
        "conference_member": _l("Ledamot i remissgruppen"),
        "coordinator": _l("Koordinator"),
        "team_lead": _l("Samordnare (teamledare)"),
        "admin": _l("Administratör"),
        "analyst": _l("Analytiker"),
        "auditor": _l("Loggranskare"),
        "registrar": _l("Dataskyddshandläggare (registerutdrag)"),
    },
    "grant_state": {
        "pending": _l("Väntar på godkännande"),
        "approved": _l("Godkänd"),
        "rejected": _l("Avslagen"),
        "withdrawn": _l("Återtagen"),
        "ended": _l("Borttagen"),
    },
    "channel": {
        "email": _l("E-post"),
        "sms": _l("SMS"),
        "phone": _l("Telefon"),
        "letter": _l("Brev"),
    },
    "consent_form": {
        "written": _l("Skriftligt"),
        "oral": _l("Muntligt med vittne"),
    },
    "info_kind": {
        "health": _l("Hälsa"),
        "social_services": _l("Socialtjänst"),
        "employment": _l("Arbetsmarknad"),
        "benefits": _l("Ersättningar"),
    },
    "priority_rule": {
        "age_25_45_children_first": _l("Prioriterad ålder med barn först, sedan remissdatum"),
        "referral_date": _l("Remissdatum"),
    },
    "counting_mode": {
        "since_reset": _l("Totalt sedan senaste nollställning"),
        "consecutive": _l("I följd"),
    },
    # Meetings and the missed-meeting ladder (../shared/DOMAIN.md §8).
    "meeting_kind": {
        "coaching": _l("Coachningssamtal"),
        "three_party": _l("Trepartsmöte"),
        "network": _l("Nätverksmöte"),
        "samsip": _l("SamSIP-möte"),
        "group_session": _l("Grupptillfälle"),
        "home_visit": _l("Hembesök"),
        "follow_up": _l("Uppföljningsmöte"),
    },
    "meeting_status": {
        "booked": _l("Bokat"),
        "cancelled": _l("Inställt"),
    },
    "attendance": {
        "attended": _l("Kom"),
        "missed": _l("Uteblev"),
        "cancelled_by_participant": _l("Återbud från deltagaren"),
        "cancelled_by_staff": _l("Inställt av personalen"),
    },
    "escalation_status": {
        "open": _l("Öppen: beslut behövs"),
        "withdrawn": _l("Återkallad efter rättelse"),
        "decided": _l("Beslutad"),
    },
    "escalation_decision": {
        "continue": _l("Fortsätta med reviderad plan"),
        "discharge": _l("Avsluta insatsen (avbrutit/uteblivit)"),
    },
    "task_kind": {
        "contact_after_miss": _l("Kontakta deltagaren och erbjud hembesök"),
        "follow_up_repeated_miss": _l("Följ upp upprepade uteblivna möten"),
        "revise_plan": _l("Revidera handlingsplanen"),
    },
    "ladder_step": {
        "first_miss_task": _l("Första uteblivna mötet: uppgift till koordinatorn"),
        "repeated_miss_task": _l("Upprepat uteblivet möte: uppgift och besked till samordnaren"),
        "escalation_opened": _l("Eskalering till remitterande myndighet"),
        "escalation_withdrawn": _l("Eskaleringen återkallad"),
        "decided_continue": _l("Beslut: fortsätta, räkningen börjar om"),
        "decided_discharge": _l("Beslut: avsluta (avbrutit/uteblivit)"),
        "correction": _l("Närvaron rättad"),
        "task_cancelled": _l("Uppgift struken efter rättelse"),
    },
    "group_preset": {
        "halsogrupp": _l("Hälsogrupp"),
        "aktivitetsgrupp": _l("Aktivitetsgrupp"),
        "other": _l("Annan grupp"),
    },
    "participant_reminder": {
        "pending": _l("Skickas dagen före"),
        "sent": _l("Skickad"),
        "handed_over": _l("Koordinatorn påminner själv"),
        "cancelled": _l("Behövs inte"),
        "failed": _l("Kunde inte skickas"),
    },
    "weekday": {
        "0": _l("måndag"),
        "1": _l("tisdag"),
        "2": _l("onsdag"),
        "3": _l("torsdag"),
        "4": _l("fredag"),
    },
    "report_gender": {
        "kvinna": _l("Kvinna"),
        "man": _l("Man"),
        "annat": _l("Annat/ej angivet"),
        "total": _l("Totalt"),
    },
    "occasion": {
        "intake": _l("Inskrivning"),
        "exit": _l("Utskrivning"),
        "follow_up_6": _l("Uppföljning efter 6 månader"),
        "follow_up_12": _l("Uppföljning efter 12 månader"),
    },
    # Exit, return referrals and packets (../shared/DOMAIN.md §9).
    "packet_kind": {
        "return_referral": _l("Återremiss"),
        "joint_recommendation": _l("Gemensam rekommendation"),
    },
    "recommendation_status": {
        "planned": _l("Planerad"),
        "started": _l("Påbörjad"),
        "done": _l("Genomförd"),
        "not_done": _l("Genomförs inte"),
    },
    "reminder_to": {
        "referrer": _l("Remittenten"),
        "team_lead": _l("Remittentens teamledare"),
    },
    "reminder_status": {
        "scheduled": _l("Planerad"),
        "sent": _l("Skickad"),
        "cancelled": _l("Behövs inte: kvitterat"),
    },
    "population": {
        "enrolled": _l("Inskrivna under perioden"),
        "active": _l("Aktiva någon gång under perioden"),
        "exited": _l("Utskrivna under perioden"),
    },
    "report_unit": {
        "participants": _l("deltagare"),
        "registrations": _l("registreringar"),
        "pairs": _l("par av registreringar"),
        "referrals": _l("remisser"),
        "enrolments": _l("inskrivningar"),
        "cases": _l("ärenden"),
        "meetings": _l("möten med registrerad närvaro"),
        "targets": _l("mål"),
    },
    "target_variable": {
        "exit_reason": _l("Avslutsanledning"),
        "occupation": _l("Sysselsättning"),
        "work": _l("Arbete"),
        "education": _l("Utbildning"),
        "time_on_support": _l("Tid i offentlig försörjning"),
        "support": _l("Försörjning"),
        "joint_recommendation": _l("Beslutade remisser med gemensam rekommendation"),
    },
    "funnel": {
        "received": _l("Mottagna remisser"),
        "open": _l("Under behandling"),
        "decided": _l("Beslutade"),
        "admitted": _l("Inskrivna (beslut: inskrivning)"),
        "recommended": _l("Rekommendation utan inskrivning"),
        "withdrawn": _l("Återtagna"),
        "with_recommendation": _l("Med skriftlig gemensam rekommendation"),
        "without_recommendation": _l("Utan skriftlig gemensam rekommendation"),
    },
    "participant_count": {
        "enrolled": _l("Inskrivna"),
        "active": _l("Aktiva"),
        "exited": _l("Utskrivna"),
    },
    "progression_change": {
        "positive": _l("Förbättring"),
        "negative": _l("Försämring"),
        "unchanged": _l("Oförändrad"),
    },
    "progression_question": {
        "job_search_clarity": _l("Jag vet hur jag ska gå till väga för att söka arbete"),
        "use_of_competences": _l("Jag kan använda mina kompetenser"),
        "managing_a_job": _l("Jag klarar av att sköta ett arbete"),
        "time_available": _l("Jag har tid för arbete eller studier"),
        "health_for_work": _l("Min hälsa räcker för att arbeta"),
        "network_support": _l("Jag får stöd från mitt nätverk"),
        "contacting_strangers": _l("Jag kan ta kontakt med personer jag inte känner"),
        "cooperation": _l("Jag kan samarbeta med andra"),
        "managing_studies": _l("Jag klarar av att studera"),
        "job_goal_clarity": _l("Jag vet vilket arbete jag vill ha"),
    },
}


def label(kind: str, code: str | None) -> str:
    """Return the translated label of a fixed code, or the code itself."""
    if code is None:
        return ""
    value = LABELS.get(kind, {}).get(str(code))
    return str(value) if value is not None else str(code)


def select_locale() -> str:
    """Choose the language: the session's choice, the user's setting, then Swedish."""
    chosen = session.get("lang") if request else None
    if chosen in LANGUAGES:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.locale
    return "sv"


def local(value: datetime | None) -> datetime | None:
    """Return a UTC datetime in Europe/Stockholm."""
    return value.astimezone(STOCKHOLM) if value else None


def install(app: Flask) -> None:
    """Register the template filters and globals for labels and Swedish dates."""

    @app.template_filter("dt")
    def _dt(value: datetime | None) -> str:
        return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""

    @app.template_filter("d")
    def _d(value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, "yyyy-MM-dd")
        return format_date(value, "yyyy-MM-dd")

    from coordination.core.formats import (
        decimal_text,
        identity_number_text,
        number_range,
        percent_text,
    )

    # Numbers through one helper (coordination.core.formats): "12,5", "12,5 %", "18–64".
    app.add_template_filter(decimal_text, "pct")
    app.add_template_filter(percent_text, "percent")
    app.add_template_filter(number_range, "range")
    app.add_template_filter(identity_number_text, "pnr")
    app.jinja_env.globals.update(label=label, LANGUAGES=LANGUAGES)


SCHEMA_MESSAGES = {
    "Missing data for required field.": _l("Fältet måste fyllas i."),
    "Field may not be null.": _l("Fältet måste fyllas i."),
    "Not a valid integer.": _l("Ange ett heltal."),
    "Not a valid date.": _l("Ange ett datum som ÅÅÅÅ-MM-DD."),
    "Not a valid datetime.": _l("Ange datum och tid."),
    "Not a valid boolean.": _l("Välj ja eller nej."),
    "Not a valid string.": _l("Ange text."),
    "Not a valid list.": _l("Ange en lista."),
    "Unknown field.": _l("Okänt fält."),
    "Must be one of": _l("Välj ett av alternativen."),
    "Longer than maximum length": _l("Texten är för lång."),
    "Shorter than minimum length": _l("Fältet måste fyllas i."),
    "Must be greater than or equal to": _l("Värdet är utanför det tillåtna intervallet."),
}


def translate_schema_messages(messages) -> dict:
    """Translate marshmallow's English messages into the user's language, field by field."""

    def one(message: str) -> str:
        for prefix, translated in SCHEMA_MESSAGES.items():
            if str(message).startswith(prefix):
                return str(translated)
        return str(message)

    def walk(value):
        if isinstance(value, dict):
            flat: list[str] = []
            for item in value.values():
                result = walk(item)
                flat.extend(result if isinstance(result, list) else [result])
            return flat
        if isinstance(value, list):
            out: list[str] = []
            for item in value:
                result = walk(item)
                out.extend(result if isinstance(result, list) else [result])
            return out
        return one(value)

    if not isinstance(messages, dict):
        return {"_schema": walk(messages)}
    return {field: walk(value) for field, value in messages.items()}
