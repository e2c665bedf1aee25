"""The kinds of message (what a user can choose channels for) and the title of each template.

A title is the whole message on the inbox, the email subject and the SMS text: it says what to do,
never who it is about. Placeholders are filled from a notification's params (ids, dates, codes).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Kind:
    """A kind of message: its name on the preferences page, default channels, and urgency."""

    label: object
    defaults: tuple[str, ...] = ("email",)
    urgent: bool = False  # urgent messages ignore working hours


KINDS: dict[str, Kind] = {
    "referral_submitted": Kind(_l("En ny remiss har kommit in")),
    "completion_requested": Kind(_l("En remiss behöver kompletteras")),
    "completion_reminder": Kind(_l("Påminnelse om att komplettera en remiss")),
    "referral_decided": Kind(_l("Remissgruppen har fattat beslut om en remiss")),
    "case_assigned": Kind(_l("Du har fått en ny deltagare")),
    "agenda_published": Kind(_l("Dagordningen till remissgruppen är klar")),
    "prepare_reminder": Kind(_l("Påminnelse om att förbereda remissgruppen")),
    "case_queued": Kind(_l("En deltagare väntar på plats i kön")),
    # Exit, packets and follow-ups (../shared/DOMAIN.md §9, §12).
    "packet_delivered": Kind(_l("En återremiss eller gemensam rekommendation att kvittera")),
    "packet_reminder": Kind(_l("Påminnelse om att kvittera ett paket")),
    "packet_escalation": Kind(_l("Ett paket till din enhet är inte kvitterat")),
    "follow_up_task": Kind(_l("Uppföljning 6 och 12 månader efter avslut")),
    # Meetings and the missed-meeting ladder (../shared/DOMAIN.md §8).
    "meeting_invitation": Kind(_l("Kallelse till möte, ändring eller inställt möte")),
    "meeting_confirmation_reminder": Kind(_l("Påminnelse om att bekräfta ett SamSIP-möte")),
    "attendance_reminder": Kind(_l("Påminnelse om att registrera närvaro")),
    "participant_contact": Kind(_l("Påminn en deltagare själv om ett möte")),
    "missed_meeting_task": Kind(_l("Uppgift efter ett uteblivet möte")),
    "missed_meeting_notice": Kind(_l("En deltagare har uteblivit från flera möten")),
    "escalation": Kind(_l("Eskalering efter uteblivna möten")),
    "escalation_overdue": Kind(_l("Ett beslut om eskalering är försenat")),
    "case_task": Kind(_l("Uppgift om ett deltagande")),
    "group_scheduled": Kind(_l("En gruppverksamhet du leder är schemalagd")),
    # Cases and the joint action plan (../shared/DOMAIN.md §7, §9).
    "plan_sign_off_requested": Kind(_l("En handlingsplan väntar på godkännande")),
    "plan_action_due": Kind(_l("Påminnelse om en insats i en handlingsplan")),
    "plan_review_due": Kind(_l("Dags att följa upp en handlingsplan")),
    "plan_unsigned": Kind(_l("En handlingsplan är inte godkänd i tid")),
    "planned_exit_ahead": Kind(_l("Ett planerat avslut närmar sig")),
    "case_duration": Kind(_l("Ett deltagande närmar sig insatsens längsta tid")),
    # A new account: its owner chooses the password (coordination.auth.activation).
    "account_activation": Kind(_l("Välj lösenord till ett nytt konto"), urgent=True),
    # Self-rating every three months (../shared/DOMAIN.md §12).
    "rating_due": Kind(_l("Dags för självskattning med en deltagare")),
}

TITLES: dict[str, object] = {
    "account_activation": _l("Välj lösenord till ditt konto i Samordning"),
    "referral_submitted": _l("En ny remiss väntar på handläggning"),
    "completion_requested": _l("Komplettera en remiss senast %(due_on)s"),
    "completion_reminder": _l("Påminnelse: komplettera en remiss senast %(due_on)s"),
    "completion_deadline": _l("Tiden för att komplettera en remiss har gått ut"),
    "referral_decided_admit": _l("Beslut om remiss %(referral_id)s: inskrivning"),
    "referral_decided_recommend": _l(
        "Beslut om remiss %(referral_id)s: gemensam rekommendation att ta del av"
    ),
    "case_assigned": _l("Du är koordinator för ett nytt ärende"),
    "agenda_published": _l("Dagordningen till remissgruppen är publicerad"),
    "prepare_reminder": _l("Förbered remissgruppen: läs remisserna senast %(prepare_on)s"),
    "case_queued": _l("En deltagare har antagits men väntar på plats"),
    "return_referral_delivered": _l("Återremiss för deltagande %(case_id)s: läs och kvittera"),
    "joint_recommendation_delivered": _l(
        "Gemensam rekommendation om remiss %(referral_id)s: läs och kvittera"
    ),
    "packet_reminder": _l("Påminnelse: kvittera paket %(packet_id)s från %(delivered_on)s"),
    "packet_escalation": _l(
        "Inte kvitterat på %(working_days)s arbetsdagar: paket %(packet_id)s till din enhet"
    ),
    "follow_up_due": _l(
        "Uppföljning efter %(months)s månader: deltagande %(case_id)s, från %(due_on)s"
    ),
    "meeting_invitation": _l("Kallelse till möte den %(starts_on)s kl. %(at)s"),
    "meeting_changed": _l("Ändrat möte: nu den %(starts_on)s kl. %(at)s"),
    "meeting_cancelled": _l("Inställt möte den %(starts_on)s kl. %(at)s"),
    "meeting_confirmation_reminder": _l(
        "Bekräfta att du kommer till SamSIP-mötet den %(starts_on)s kl. %(at)s"
    ),
    "attendance_reminder": _l("Registrera närvaron för mötet den %(starts_on)s kl. %(at)s"),
    "participant_contact": _l("Påminn deltagaren om mötet den %(starts_on)s kl. %(at)s"),
    "missed_meeting_first": _l(
        "Uteblivet möte: kontakta deltagaren och erbjud hembesök senast %(due_on)s"
    ),
    "missed_meeting_repeated": _l(
        "%(count)s uteblivna möten: följ upp deltagandet senast %(due_on)s"
    ),
    "missed_meeting_notice": _l("Deltagande %(case_id)s: %(count)s uteblivna möten"),
    "escalation_opened": _l("Eskalering: deltagande %(case_id)s, beslut behövs senast %(due_on)s"),
    "escalation_withdrawn": _l("Eskaleringen för deltagande %(case_id)s är återkallad"),
    "escalation_decided_continue": _l(
        "Beslut: deltagande %(case_id)s fortsätter med reviderad plan"
    ),
    "escalation_decided_discharge": _l("Beslut: deltagande %(case_id)s avslutas"),
    "escalation_overdue": _l(
        "Försenat beslut: eskaleringen för deltagande %(case_id)s (senast %(due_on)s)"
    ),
    "revise_plan_task": _l("Revidera planen för deltagande %(case_id)s senast %(due_on)s"),
    "group_scheduled": _l("Du leder en ny gruppverksamhet med %(sessions)s tillfällen"),
    # Cases and the joint action plan (../shared/DOMAIN.md §7, §9).
    "coordinator_assigned": _l("Du är koordinator för deltagande %(case_id)s"),
    "plan_sign_off_requested": _l(
        "Deltagande %(case_id)s: godkänn handlingsplanen, version %(version)s"
    ),
    "plan_action_due_soon": _l(
        "Deltagande %(case_id)s: en insats du är kontaktperson för ska vara klar %(due_on)s"
    ),
    "plan_action_overdue": _l(
        "Deltagande %(case_id)s: en insats du är kontaktperson för skulle ha varit klar %(due_on)s"
    ),
    "plan_review_due": _l("Deltagande %(case_id)s: följ upp handlingsplanen senast %(review_on)s"),
    "plan_unsigned": _l(
        "Deltagande %(case_id)s: handlingsplanen är inte godkänd 20 arbetsdagar efter inskrivningen"
    ),
    "planned_exit_ahead": _l("Deltagande %(case_id)s: planerat avslut %(exit_on)s, om fyra veckor"),
    "case_duration_warning": _l(
        "Deltagande %(case_id)s har nått %(percent)s procent av insatsens längsta tid"
    ),
    "rating_due": _l("Deltagande %(case_id)s: dags för självskattning, från %(due_on)s"),
}
