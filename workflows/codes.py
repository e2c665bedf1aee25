"""The default code lists of ../shared/DOMAIN.md §12, with Swedish and English labels."""

from __future__ import annotations

from workflows.municipalities import MUNICIPALITIES

DEFAULT_CODE_LISTS: dict[str, list[tuple[str, str, str]]] = {
    "gender": [
        ("kvinna", "Kvinna", "Woman"),
        ("man", "Man", "Man"),
        ("annat", "Annat/ej angivet", "Other/not stated"),
    ],
    "support": [
        (
            "sjukpenning_rehabpenning",
            "Sjukpenning/rehabiliteringspenning",
            "Sickness/rehab benefit",
        ),
        ("aktivitetsersattning", "Aktivitetsersättning", "Activity compensation"),
        ("sjukersattning", "Sjukersättning", "Sickness compensation"),
        ("a_kassa", "A-kassa", "Unemployment insurance"),
        ("aktivitetsstod", "Aktivitetsstöd", "Activity support"),
        ("forsorjningsstod", "Försörjningsstöd", "Social assistance"),
        ("studiestod", "Studiestöd", "Study support"),
        ("annan_offentlig", "Annan offentlig försörjning", "Other public support"),
        ("ingen_offentlig", "Ingen offentlig försörjning", "No public support"),
        ("uppgift_saknas", "Uppgift saknas", "Not known"),
    ],
    "work": [
        ("uppgift_saknas", "Uppgift saknas", "Not known"),
        ("ej_subventionerat", "Arbete utan subvention", "Unsubsidised work"),
        ("subventionerat", "Subventionerat arbete", "Subsidised work"),
    ],
    "occupation": [
        ("arbete", "Arbete", "Work"),
        ("studier", "Studier", "Studies"),
        ("arbetssokande_i_atgard", "Arbetssökande i åtgärd", "Job seeker in a programme"),
        (
            "arbetssokande_utan_sysselsattning",
            "Arbetssökande utan sysselsättning",
            "Job seeker without occupation",
        ),
        (
            "sjukskriven_utan_sysselsattning",
            "Sjukskriven utan sysselsättning",
            "On sick leave without occupation",
        ),
        ("arbetstraning_praktik", "Arbetsträning/praktik", "Work training/placement"),
        ("annat", "Annat", "Other"),
        ("uppgift_saknas", "Uppgift saknas", "Not known"),
    ],
    "education": [
        ("grundskola", "Grundskola", "Compulsory school"),
        ("gymnasium", "Gymnasium", "Upper secondary"),
        ("annan_eftergymnasial", "Annan eftergymnasial utbildning", "Other post-secondary"),
        ("hogskola_upp_till_1_ar", "Högskola upp till 1 år", "University up to 1 year"),
        ("hogskola_upp_till_3_ar", "Högskola upp till 3 år", "University up to 3 years"),
        ("hogskola_mer_an_3_ar", "Högskola mer än 3 år", "University more than 3 years"),
        ("saknas_okand", "Saknas/okänd", "None/unknown"),
    ],
    "time_on_support": [
        *[(f"upp_till_{n}_ar", f"Upp till {n} år", f"Up to {n} years") for n in range(1, 10)],
        ("10_ar_eller_mer", "10 år eller mer", "10 years or more"),
        ("ej_tillampligt", "Ej tillämpligt", "Not applicable"),
    ],
    "exit_reason": [
        ("arbete", "Arbete", "Work"),
        ("studier", "Studier", "Studies"),
        (
            "fullfoljd_star_till_arbetsmarknadens_forfogande",
            "Fullföljd, står till arbetsmarknadens förfogande",
            "Completed, available for work",
        ),
        ("fortsatt_rehabilitering", "Fortsatt rehabilitering", "Continued rehabilitation"),
        ("flytt", "Flytt", "Moved"),
        ("foraldraledighet", "Föräldraledighet", "Parental leave"),
        ("sjukdom", "Sjukdom", "Illness"),
        ("medgivande_atertaget", "Medgivande återtaget", "Consent withdrawn"),
        ("avbrutit_uteblivit", "Avbrutit/uteblivit", "Discontinued/did not attend"),
        ("ovrigt", "Övrigt", "Other"),
    ],
    "referral_reason": [
        ("fysiska_besvar", "Fysiska besvär", "Physical problems"),
        ("psykiska_besvar", "Psykiska besvär", "Mental health problems"),
        (
            "fysiska_och_psykiska_besvar",
            "Fysiska och psykiska besvär",
            "Physical and mental health problems",
        ),
        ("missbruk", "Missbruk", "Substance abuse"),
        ("sociala_faktorer", "Sociala faktorer", "Social factors"),
        (
            "bristande_utbildning_yrkeserfarenhet",
            "Bristande utbildning/yrkeserfarenhet",
            "Lack of education/work experience",
        ),
        ("sprak", "Språk", "Language"),
        ("annat", "Annat", "Other"),
    ],
    # SCB's municipality codes; the name is the same in both languages.
    "municipality": [(code, name, name) for code, name in MUNICIPALITIES],
}

CODE_LIST_NAMES: dict[str, tuple[str, str]] = {
    "gender": ("Kön", "Gender"),
    "support": ("Försörjning", "Means of support"),
    "work": ("Arbete", "Work"),
    "occupation": ("Sysselsättning", "Occupation"),
    "education": ("Utbildning", "Education"),
    "time_on_support": ("Tid i offentlig försörjning", "Time on public support"),
    "exit_reason": ("Avslutsanledning", "Exit reason"),
    "referral_reason": ("Remissorsak", "Reason for referral"),
    "municipality": ("Hemkommun", "Home municipality"),
}
