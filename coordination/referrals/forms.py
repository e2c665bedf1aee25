"""Filling the referral form from a saved referral (the form is read by ReferralDraftSchema)."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

LISTS = ("agencies_needed", "support_current", "consent_agencies", "consent_info_kinds")
FLAGS = ("interpreter_needed", "protected_identity")
DATES = ("consent_given_on", "consent_valid_until")
OPTIONAL = (
    "gender phone email address preferred_channel interpreter_language home_municipality reason "
    "occupation education time_on_support consent_form consent_witness"
).split()
TEXTS = "identity_number first_name last_name background question_to_conference".split()


def referral_to_form(referral) -> MultiDict:
    """Fill the form from a saved referral."""
    form = MultiDict()
    if referral is None:
        return form
    for name in LISTS:
        for value in getattr(referral, name) or []:
            form.add(name, value)
    for name in FLAGS:
        if getattr(referral, name):
            form.add(name, "on")
    if referral.children_in_household is not None:
        form.add("children_in_household", "yes" if referral.children_in_household else "no")
    for name in DATES:
        value = getattr(referral, name)
        form.add(name, value.isoformat() if value else "")
    for name in OPTIONAL + TEXTS:
        form.add(name, getattr(referral, name) or "")
    form.add("programme_id", str(referral.programme_id))
    form.add("referring_unit_id", str(referral.referring_unit_id))
    form.add("version", str(referral.version))
    return form
