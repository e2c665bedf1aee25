"""`make bench-documents`: the minutes PDF of a conference with 40 decided referrals.

Builds a fresh PostgreSQL database from the migrations, seeds one published conference with
every agency present and 40 decided referrals (through the test factories, so the data passes the
real operations), then times GET /conferences/<id>/minutes.pdf as the chair (the whole request:
queries, template, WeasyPrint, access log) and, as its floor, plain WeasyPrint on a minimal HTML
with the same text (no styles, no tagging). BENCH_PROFILE=1 also prints a cProfile of one request.
Prints one line per figure:
`figure=minutes_pdf referrals=40 p50_ms=… p95_ms=… pages=…`.
"""

from __future__ import annotations

import html
import io
import os
import re
import statistics
import sys
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/coord_bench_documents"
REFERRALS = 40
RECOMMENDATION = (
    "Samordnade insatser från kommunen och Arbetsförmedlingen: arbetsträning i kommunens "
    "verksamhet i tre månader, därefter en kartläggning hos Arbetsförmedlingen. Vårdcentralen "
    "följer upp sömn och smärta; Försäkringskassan bedömer rätten till ersättning under tiden."
)
POSITIONS = {
    "kommun": "Tillstyrker. Socialtjänsten kan erbjuda arbetsträning från nästa månad.",
    "af": "Tillstyrker med en kartläggning efter arbetsträningen.",
    "fk": "Tillstyrker. Ersättningen prövas i ärendet hos Försäkringskassan.",
    "region": "Tillstyrker. Vårdcentralen följer upp hälsan var fjärde vecka.",
}


def _fresh_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _seed(count: int):
    """One published conference, all agencies present, `count` decided referrals."""
    from tests.factories import decide_referral, make_conference, make_referral

    conference = make_conference(state="published", present="all")
    for i in range(count):
        referral = make_referral("on_agenda", conference=conference, first_name=f"Åsa{i:02d}")
        decide_referral(
            referral,
            conference,
            recommendation=RECOMMENDATION,
            positions={a: POSITIONS[a] for a in conference.present_agencies},
        )
    return conference


def _percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _floor_html(document: str) -> str:
    """The minutes' text in a minimal HTML: one paragraph per line, nothing else."""
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", document, flags=re.S)
    lines = [html.unescape(t).strip() for t in re.split(r"<[^>]+>", body)]
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    return f'<!DOCTYPE html><html lang="sv"><body>{paragraphs}</body></html>'


def main() -> int:
    """Seed, time the route and its floor, print one line each."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    runs = int(os.environ.get("BENCH_RUNS", "10"))
    _fresh_database(url)

    from flask import render_template
    from flask_login import login_user
    from flask_migrate import upgrade
    from weasyprint import HTML

    from coordination.app import create_app
    from coordination.conferences.decision_views import _minutes_context, minutes_pdf
    from coordination.extensions import db
    from coordination.tenancy.context import use

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    # Every row is the first förbund's (made by the migration), as on a one-förbund installation.
    with app.app_context(), use(1):
        upgrade()
        conference = _seed(REFERRALS)
        conference_id, chair = conference.id, conference.chair.user
        path = f"/conferences/{conference_id}/minutes.pdf"

        def request_pdf() -> bytes:
            with app.test_request_context(path):
                login_user(chair)
                response = minutes_pdf(conference_id)
                return response.get_data()

        def minutes_html() -> str:
            with app.test_request_context(path):
                login_user(chair)
                return render_template(
                    "conferences/minutes_pdf.html", **_minutes_context(conference)
                )

        pdf = request_pdf()  # warm: fonts, templates
        timings = []
        for _ in range(runs):
            begin = time.perf_counter()
            pdf = request_pdf()
            timings.append(time.perf_counter() - begin)
        p50, p95 = _percentiles(timings)
        print(
            f"figure=minutes_pdf referrals={REFERRALS} p50_ms={p50:.0f} p95_ms={p95:.0f} "
            f"pages={_pages(pdf)}",
            flush=True,
        )

        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(request_pdf)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)

        document = minutes_html()
        if os.environ.get("BENCH_SAVE_HTML"):
            with open(os.environ["BENCH_SAVE_HTML"], "w", encoding="utf-8") as out:
                out.write(document)
        floor = _floor_html(document)
        floor_pdf = HTML(string=floor).write_pdf()
        timings = []
        for _ in range(runs):
            begin = time.perf_counter()
            floor_pdf = HTML(string=floor).write_pdf()
            timings.append(time.perf_counter() - begin)
        p50, p95 = _percentiles(timings)
        print(
            f"figure=minutes_pdf_floor referrals={REFERRALS} p50_ms={p50:.0f} p95_ms={p95:.0f} "
            f"pages={_pages(floor_pdf)}",
            flush=True,
        )
        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
