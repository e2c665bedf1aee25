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
}

TITLES: dict[str, object] = {
    "referral_submitted": _l("En ny remiss väntar på handläggning"),
    "completion_requested": _l("Komplettera en remiss senast %(due_on)s"),
    "completion_reminder": _l("Påminnelse: komplettera en remiss senast %(due_on)s"),
    "completion_deadline": _l("Tiden för att komplettera en remiss har gått ut"),
}
