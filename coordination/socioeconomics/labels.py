"""The words of the socio-economic pages: actors, variables, kinds, and the rules' problems."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ACTOR_LABELS = {
    "individual": _l("Individen"),
    "kommun": _l("Kommunen"),
    "region": _l("Regionen"),
    "af": _l("Arbetsförmedlingen"),
    "fk": _l("Försäkringskassan"),
    "state": _l("Staten"),
    "public": _l("Offentliga aktörer tillsammans"),
    "society": _l("Samhället"),
}
VARIABLE_LABELS = {
    "support": _l("Försörjning"),
    "occupation": _l("Sysselsättning"),
    "work": _l("Arbete"),
}
KIND_LABELS = {"cost": _l("Kostnad"), "revenue": _l("Intäkt")}


def actor(key: str) -> str:
    """Return an actor's (or 'public', 'society') name."""
    return str(ACTOR_LABELS.get(key, key))


def variable(key: str) -> str:
    """Return a SUS variable's name."""
    return str(VARIABLE_LABELS.get(key, key))


def kind(key: str) -> str:
    """Return 'Kostnad' or 'Intäkt'."""
    return str(KIND_LABELS.get(key, key))


def problem(code: str) -> str:
    """Turn a problem code of workflows.socioeconomics into a sentence."""
    sentences = {
        "empty_cohort": _(
            "Kohorten är tom: ingen deltagare skrevs ut ur insatsen under perioden med "
            "uppgifter både vid inskrivning och vid uppföljning eller utskrivning."
        ),
        "horizon_out_of_range": _("Ange en horisont från 1 till 50 år."),
        "invalid_prices": _("Prislistan har ogiltiga priser."),
        "shares_not_100": _("Finansieringsandelarna måste tillsammans bli exakt 100 procent."),
        "negative_amount": _(
            "Beloppet kan inte vara negativt: ange det som en kostnad eller en intäkt."
        ),
        "share_out_of_range": _("Andelen ska vara från 0 till 100 procent."),
        "unknown_actor": _("Okänd aktör."),
    }
    return sentences.get(code, code)


def problems(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Turn a dict of problem codes by field into sentences by field."""
    return {field: [problem(code) for code in codes] for field, codes in errors.items()}
