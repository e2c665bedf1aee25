"""The KRUT reference (seed 000_b01e159abb5e4fa4.txt, tables 2-11): the printed tables as
expected data, the historical codes of ../shared/DOMAIN.md §12, and a generator of participant
records
whose marginals per gender are exactly those tables, written as the import CSV."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from workflows.statistics import months_in_programme

# (printed label, code, women, men, total) exactly as printed; a blank cell is 0.
EXIT_REASONS = [  # Tabell 2 and 5: Avslutsanledning
    ("Medgivande återtagit", "hist_medgivande_atertagit", 1, 0, 1),
    ("Utskrivning", "hist_utskrivning", 116, 123, 239),
    ("Utskrivning pga. flytt", "hist_utskrivning_flytt", 11, 10, 21),
    ("Utskrivning pga. föräldraledighet", "hist_utskrivning_foraldraledighet", 12, 0, 12),
    ("Utskrivning pga. sjukdom", "hist_utskrivning_sjukdom", 14, 13, 27),
    ("Utskrivning-Fortsatt rehabilitering", "hist_utskrivning_fortsatt_rehab", 40, 24, 64),
    ("Utskrivning-Utan mätning", "hist_utskrivning_utan_matning", 5, 3, 8),
    ("Övrigt", "hist_ovrigt", 13, 13, 26),
]
WORK_BEFORE = [  # Tabell 3: Arbete, inskrivning
    ("Uppgift saknas", "uppgift_saknas", 197, 182, 379),
    ("Inte subventionerat arbete", "ej_subventionerat", 13, 3, 16),
    ("Subventionerat arbete", "subventionerat", 2, 1, 3),
]
WORK_AFTER = [  # Tabell 4: Arbete, utskrivning
    ("Uppgift saknas", "uppgift_saknas", 167, 145, 312),
    ("Inte subventionerat arbete", "ej_subventionerat", 30, 23, 53),
    ("Subventionerat arbete", "subventionerat", 15, 18, 33),
]
SUPPORT_BEFORE = [  # Tabell 6: Tidigare offentlig försörjning (inskrivning), 440 registreringar
    ("Sjukpenning/Rehabpenning", "sjukpenning_rehabpenning", 31, 9, 40),
    ("Sjuk-/Aktivitetsersättning", "hist_sjuk_aktivitetsersattning", 1, 0, 1),
    ("Aktivitetsersättning", "aktivitetsersattning", 14, 8, 22),
    ("Sjukersättning", "sjukersattning", 7, 2, 9),
    ("A-kassa", "a_kassa", 7, 7, 14),
    ("Aktivitetsstöd", "aktivitetsstod", 37, 35, 72),
    ("Försörjningsstöd", "forsorjningsstod", 101, 103, 204),
    ("Studiestöd/Studiemedel", "studiestod", 16, 12, 28),
    ("Annan offentlig försörjning", "annan_offentlig", 5, 2, 7),
    ("Ingen offentlig försörjning", "ingen_offentlig", 22, 21, 43),
]
SUPPORT_BEFORE_TOTALS = (241, 199, 440)
SUPPORT_AFTER = [  # Tabell 7: Tidigare offentlig försörjning (vid utskrivning), 413 registreringar
    ("Uppgift saknas", "uppgift_saknas", 6, 3, 9),
    ("Sjukpenning/Rehabpenning", "sjukpenning_rehabpenning", 18, 8, 26),
    ("Aktivitetsersättning", "aktivitetsersattning", 14, 13, 27),
    ("Sjukersättning", "sjukersattning", 13, 0, 13),
    ("A-kassa", "a_kassa", 2, 1, 3),
    ("Aktivitetsstöd", "aktivitetsstod", 33, 38, 71),
    ("Försörjningsstöd", "forsorjningsstod", 61, 56, 117),
    ("Studiestöd/Studiemedel", "studiestod", 26, 18, 44),
    ("Annan offentlig försörjning", "annan_offentlig", 9, 5, 14),
    ("Ingen offentlig försörjning", "ingen_offentlig", 39, 50, 89),
]
SUPPORT_AFTER_TOTALS = (221, 192, 413)
TIME_IN_PROGRAMME = [  # Tabell 8: Total tid i KRUT (i månader)
    ("1 - 3", "1_3", 49, 55, 104),
    ("4 - 6", "4_6", 57, 52, 109),
    ("7 - 9", "7_9", 41, 34, 75),
    ("10 - 12", "10_12", 27, 25, 52),
    ("13 - 15", "13_15", 21, 13, 34),
    ("16 - 18", "16_18", 13, 4, 17),
    ("19 - 21", "19_21", 2, 0, 2),
    ("22 - 24", "22_24", 1, 3, 4),
    ("25 - 27", "25_27", 1, 0, 1),
]
TIME_ON_SUPPORT = [  # Tabell 9: Total tid i offentlig försörjning
    ("Upp till 1 år", "upp_till_1_ar", 78, 84, 162),
    ("Upp till 2 år", "upp_till_2_ar", 39, 38, 77),
    ("Upp till 3 år", "upp_till_3_ar", 25, 17, 42),
    ("Upp till 4 år", "upp_till_4_ar", 10, 3, 13),
    ("Upp till 5 år", "upp_till_5_ar", 10, 8, 18),
    ("Upp till 6 år", "upp_till_6_ar", 9, 4, 13),
    ("Upp till 7 år", "upp_till_7_ar", 6, 1, 7),
    ("Upp till 8 år", "upp_till_8_ar", 4, 2, 6),
    ("Upp till 9 år", "upp_till_9_ar", 3, 0, 3),
    ("10 år eller mer", "10_ar_eller_mer", 8, 3, 11),
    ("Ej tillämpligt", "ej_tillampligt", 20, 26, 46),
]
EDUCATION = [  # Tabell 10: Deltagarnas utbildningsnivå (inskrivning)
    ("Annan eftergymnasial utbildning", "annan_eftergymnasial", 7, 2, 9),
    ("Grundskola", "grundskola", 111, 109, 220),
    ("Gymnasium", "gymnasium", 62, 48, 110),
    ("Högskola/Universitet mer än 3 år", "hogskola_mer_an_3_ar", 2, 2, 4),
    ("Högskola/universitet upp till 1 år", "hogskola_upp_till_1_ar", 5, 5, 10),
    ("Högskola/Universitet upp till 3 år", "hogskola_upp_till_3_ar", 1, 1, 2),
    ("Saknas/okänd", "saknas_okand", 24, 19, 43),
]
AGE = [  # Tabell 11: Åldersfördelning (inskrivning)
    ("15 - 19", "15_19", 26, 32, 58),
    ("20 - 24", "20_24", 88, 77, 165),
    ("25 - 29", "25_29", 31, 48, 79),
    ("30 - 34", "30_34", 7, 4, 11),
    ("35 - 39", "35_39", 11, 2, 13),
    ("40 - 44", "40_44", 20, 2, 22),
    ("45 - 49", "45_49", 12, 5, 17),
    ("50 - 54", "50_54", 7, 5, 12),
    ("55 - 59", "55_59", 2, 9, 11),
    ("60 - 64", "60_64", 8, 2, 10),
]
PARTICIPANTS = (212, 186, 398)  # "398 ... avslutade var 212 kvinnor och 186 män"

# The report, table by table: (report name, occasion, printed table).
TABLES = {
    "exit_reason": ("exit", EXIT_REASONS),
    "work_intake": ("intake", WORK_BEFORE),
    "work_exit": ("exit", WORK_AFTER),
    "support_intake": ("intake", SUPPORT_BEFORE),
    "support_exit": ("exit", SUPPORT_AFTER),
    "time_in_programme": ("exit", TIME_IN_PROGRAMME),
    "time_on_support": ("intake", TIME_ON_SUPPORT),
    "education": ("intake", EDUCATION),
    "age": ("intake", AGE),
}

# The codes ../shared/DOMAIN.md §12 tells an admin to add as historical, as a code-list file.
HISTORICAL_CODES_YAML = """\
exit_reason:
  - code: hist_medgivande_atertagit
    label_sv: "Medgivande återtagit"
    label_en: "Consent withdrawn"
    historical: true
  - code: hist_utskrivning
    label_sv: "Utskrivning"
    label_en: "Exit"
    historical: true
  - code: hist_utskrivning_flytt
    label_sv: "Utskrivning pga. flytt"
    label_en: "Exit: moved"
    historical: true
  - code: hist_utskrivning_foraldraledighet
    label_sv: "Utskrivning pga. föräldraledighet"
    label_en: "Exit: parental leave"
    historical: true
  - code: hist_utskrivning_sjukdom
    label_sv: "Utskrivning pga. sjukdom"
    label_en: "Exit: illness"
    historical: true
  - code: hist_utskrivning_fortsatt_rehab
    label_sv: "Utskrivning-Fortsatt rehabilitering"
    label_en: "Exit: continued rehabilitation"
    historical: true
  - code: hist_utskrivning_utan_matning
    label_sv: "Utskrivning-Utan mätning"
    label_en: "Exit: not measured"
    historical: true
  - code: hist_ovrigt
    label_sv: "Övrigt"
    label_en: "Other"
    historical: true
support:
  - code: hist_sjuk_aktivitetsersattning
    label_sv: "Sjuk-/Aktivitetsersättning"
    label_en: "Sickness or activity compensation"
    historical: true
    after: sjukpenning_rehabpenning
"""

MUNICIPALITIES = [
    "Borås",
    "Bollebygd",
    "Herrljunga",
    "Mark",
    "Svenljunga",
    "Tranemo",
    "Ulricehamn",
    "Vårgårda",
]
GENDER_COLUMN = {"kvinna": 2, "man": 3}
SINGLE_SUPPORT = {"ingen_offentlig", "uppgift_saknas"}  # never combined with another code


def _expand(table, gender: str) -> list[str]:
    column = GENDER_COLUMN[gender]
    return [row[1] for row in table for _ in range(row[column])]


def _support_sets(table, gender: str, people: int) -> list[list[str]]:
    """Give each person one or more distinct codes so that the codes add up to the table."""
    codes = _expand(table, gender)
    singles = [c for c in codes if c in SINGLE_SUPPORT]
    public = [c for c in codes if c not in SINGLE_SUPPORT]
    sets = [[c] for c in singles]
    holders = people - len(singles)
    primary, extra = public[:holders], public[holders:]
    sets += [[c] for c in primary]
    for index, code in enumerate(extra):
        assert code not in sets[len(singles) + index], "a person would get a code twice"
        sets[len(singles) + index].append(code)
    assert len(sets) == people
    return sets


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, day.day)


def participants(seed: int = 2014) -> list[dict]:
    """Build the 398 exited participants whose marginals per gender are the printed tables."""
    rng = random.Random(seed)
    people: list[dict] = []
    for gender in ("kvinna", "man"):
        count = PARTICIPANTS[0 if gender == "kvinna" else 1]
        columns = {
            "exit_reason": _expand(EXIT_REASONS, gender),
            "work_before": _expand(WORK_BEFORE, gender),
            "work_after": _expand(WORK_AFTER, gender),
            "time_on_support": _expand(TIME_ON_SUPPORT, gender),
            "education": _expand(EDUCATION, gender),
            "age": _expand(AGE, gender),
            "months": _expand(TIME_IN_PROGRAMME, gender),
            "support_before": _support_sets(SUPPORT_BEFORE, gender, count),
            "support_after": _support_sets(SUPPORT_AFTER, gender, count),
        }
        for values in columns.values():
            assert len(values) == count
            rng.shuffle(values)
        for i in range(count):
            low, high = (int(x) for x in columns["months"][i].split("_"))
            months = low + i % (high - low + 1)
            exited_on = date(2012, 6, 1) + timedelta(days=rng.randrange(0, 665))
            exited_on = exited_on.replace(day=min(exited_on.day, 28))
            enrolled_on = _add_months(exited_on, -months) + timedelta(days=1)
            assert months_in_programme(enrolled_on, exited_on) == months
            age_low, _age_high = (int(x) for x in columns["age"][i].split("_"))
            age = age_low + rng.randrange(0, 5)
            people.append(
                {
                    "participant_ref": f"KRUT-{gender[0].upper()}{i + 1:03d}",
                    "gender": gender,
                    "birth_year": enrolled_on.year - age,
                    "home_municipality": rng.choice(MUNICIPALITIES),
                    "referring_agency": rng.choice(["kommun", "af", "fk", "region"]),
                    "enrolled_on": enrolled_on.isoformat(),
                    "exited_on": exited_on.isoformat(),
                    "exit_reason": columns["exit_reason"][i],
                    "support_before": ";".join(columns["support_before"][i]),
                    "support_after": ";".join(columns["support_after"][i]),
                    "work_before": columns["work_before"][i],
                    "work_after": columns["work_after"][i],
                    "occupation_before": "",
                    "occupation_after": "",
                    "education": columns["education"][i],
                    "time_on_support": columns["time_on_support"][i],
                }
            )
    rng.shuffle(people)
    return people


def write_csv(rows: list[dict]) -> bytes:
    """Write participant rows as the import CSV of ../shared/DOMAIN.md §12."""
    from coordination.statistics.importing import IMPORT_COLUMNS

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=IMPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
