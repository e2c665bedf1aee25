"""`make bench-statistics`: every report on 200,000 imported participants in PostgreSQL.

Builds a fresh database from the migrations, imports the participants through the real CSV
import, adds self-ratings and referrals, then times each report (best of three runs, so the
figure is the query and not a cold cache) and ends with one summary line:
`participants=N reports=K slowest_report_seconds=S`.
"""

from __future__ import annotations

import csv
import io
import os
import random
import sys
import time
from datetime import date, timedelta

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/coord_bench_statistics"
MUNICIPALITIES = ["Borås", "Bollebygd", "Herrljunga", "Mark", "Svenljunga", "Tranemo"]
SUPPORT = [
    "sjukpenning_rehabpenning",
    "aktivitetsersattning",
    "sjukersattning",
    "a_kassa",
    "aktivitetsstod",
    "forsorjningsstod",
    "studiestod",
    "annan_offentlig",
]
EXIT_REASONS = ["arbete", "studier", "fortsatt_rehabilitering", "flytt", "sjukdom", "ovrigt"]


def _fresh_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def participants_csv(count: int, seed: int = 12) -> bytes:
    """Write `count` participant records (about 70 % exited) as the import CSV."""
    from coordination.statistics.importing import IMPORT_COLUMNS

    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(IMPORT_COLUMNS)
    start = date(2015, 1, 1)
    for i in range(count):
        enrolled = start + timedelta(days=rng.randrange(0, 3300))
        exited = enrolled + timedelta(days=rng.randrange(1, 900))
        is_exited = rng.random() < 0.7 and exited < date(2024, 12, 31)
        before = rng.sample(SUPPORT, rng.choice((1, 1, 1, 2)))
        after = rng.sample(SUPPORT, rng.choice((1, 1, 2))) if rng.random() < 0.7 else []
        writer.writerow(
            [
                f"B{i:07d}",
                rng.choice(("kvinna", "kvinna", "man", "man", "annat")),
                enrolled.year - rng.randrange(16, 65),
                rng.choice(MUNICIPALITIES),
                rng.choice(("kommun", "af", "fk", "region")),
                enrolled.isoformat(),
                exited.isoformat() if is_exited else "",
                rng.choice(EXIT_REASONS) if is_exited else "",
                ";".join(before),
                (";".join(after) or "ingen_offentlig") if is_exited else "",
                rng.choice(("uppgift_saknas", "ej_subventionerat", "subventionerat")),
                rng.choice(("uppgift_saknas", "ej_subventionerat")) if is_exited else "",
                rng.choice(("arbetssokande_i_atgard", "studier", "annat")),
                rng.choice(("arbete", "studier", "annat")) if is_exited else "",
                rng.choice(("grundskola", "gymnasium", "hogskola_upp_till_3_ar")),
                rng.choice(("upp_till_1_ar", "upp_till_3_ar", "10_ar_eller_mer")),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _add_ratings(db, seed: int = 3) -> int:
    from coordination.statistics.models import ProgressionRating, SusParticipant
    from workflows.statistics import PROGRESSION_QUESTIONS

    rng = random.Random(seed)
    ids = db.session.execute(
        select(SusParticipant.id, SusParticipant.enrolled_on).where(SusParticipant.id % 5 == 0)
    ).all()
    rows = []
    for participant_id, enrolled_on in ids:
        for occasion in range(rng.choice((1, 2, 3))):
            rows.append(
                {
                    "participant_id": participant_id,
                    "rated_on": enrolled_on + timedelta(days=91 * occasion),
                    **{q: rng.randint(1, 10) for q in PROGRESSION_QUESTIONS},
                }
            )
    for start in range(0, len(rows), 20000):
        db.session.execute(insert(ProgressionRating), rows[start : start + 20000])
    return len(rows)


def _add_referrals(db, count: int, seed: int = 4) -> None:
    from coordination.auth.operations import create_user
    from coordination.organisations.models import OrganisationUnit
    from coordination.programmes.models import Programme
    from coordination.referrals.models import Referral

    rng = random.Random(seed)
    unit = OrganisationUnit(name="Bench unit", agency_kind="kommun")
    programme = Programme(name="Bench programme")
    db.session.add_all([unit, programme])
    db.session.flush()
    user = create_user(
        email="bench@example.invalid",
        name="Bench",
        password="bench password 123",
        memberships=[(unit, "referrer")],
    )
    db.session.flush()
    states = ("submitted", "on_agenda", "completion_requested", "withdrawn")
    rows = [
        {
            "programme_id": programme.id,
            "referrer_id": user.id,
            "referring_unit_id": unit.id,
            "state": rng.choice(states),
            "gender": rng.choice(("kvinna", "man")),
            "home_municipality": rng.choice(MUNICIPALITIES),
            "referral_date": date(2015, 1, 1) + timedelta(days=rng.randrange(0, 3300)),
        }
        for _ in range(count)
    ]
    for start in range(0, len(rows), 10000):
        db.session.execute(insert(Referral), rows[start : start + 10000])


def main() -> int:
    """Build the data, time every report, print one line per report and the summary."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    count = int(os.environ.get("BENCH_PARTICIPANTS", "200000"))
    _fresh_database(url)

    from flask_migrate import upgrade

    from coordination.app import create_app
    from coordination.extensions import db
    from coordination.statistics import importing, reports
    from coordination.statistics.reports.base import parse_filters
    from coordination.tenancy.context import use

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    # Every row is the first förbund's (made by the migration), as on a one-förbund installation.
    with app.app_context(), use(1):
        upgrade()
        started = time.perf_counter()
        content = participants_csv(count)
        batch = importing.import_participants("bench.csv", content, by=None)
        db.session.commit()
        print(
            f"import: {batch.participant_count} participants in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        ratings = _add_ratings(db)
        _add_referrals(db, count // 4)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"data: {ratings} self-ratings, {count // 4} referrals", flush=True)

        runs = [(name, {}) for name in reports.REPORTS]
        for variable in ("work", "occupation", "education", "time_on_support", "support"):
            runs.append((variable, {"occasion": "exit", "population": "exited"}))
        runs.append(
            ("age", {"date_from": "2018-01-01", "date_to": "2020-12-31", "municipality": "Mark"})
        )
        slowest = 0.0
        for name, args in runs:
            filters = parse_filters(args)
            timings = []
            for _ in range(3):
                begin = time.perf_counter()
                result = reports.run(name, filters)
                timings.append(time.perf_counter() - begin)
                db.session.rollback()
            best = min(timings)
            slowest = max(slowest, best)
            shown = ",".join(f"{k}={v}" for k, v in args.items()) or "-"
            print(
                f"report={name:<22} filters={shown:<60} rows={len(result.rows):>4} "
                f"seconds={best:.3f}",
                flush=True,
            )
        print(f"participants={count} reports={len(runs)} slowest_report_seconds={slowest:.3f}")
        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
