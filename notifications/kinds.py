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
}

TITLES: dict[str, object] = {
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
}
