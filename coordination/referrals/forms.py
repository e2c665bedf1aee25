"""Turning the referral form's fields into the draft schema's input."""

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


def form_to_input(form: MultiDict) -> dict:
    """Read the HTML form into the shape ReferralDraftSchema loads."""
    data: dict = {}
    for name in LISTS:
        data[name] = [v for v in form.getlist(name) if v]
    for name in FLAGS:
        data[name] = form.get(name) in ("on", "yes", "true", "1")
    children = form.get("children_in_household", "")
    data["children_in_household"] = {"yes": True, "no": False}.get(children)
    for name in DATES:
        data[name] = form.get(name) or None
    for name in OPTIONAL:
        data[name] = form.get(name) or None
    for name in TEXTS:
        data[name] = form.get(name, "")
    return data


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
