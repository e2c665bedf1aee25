"""The daily duties: retention, log pruning and due self-ratings, run together and reported."""

from __future__ import annotations

from datetime import UTC, datetime

from coordination.jobs import daily_duties


def test_daily_duties_run_and_report():
    result = daily_duties(datetime(2026, 11, 23, 1, 15, tzinfo=UTC))
    assert result == {"ran": True, "erased": 0, "log_rows_pruned": 0, "ratings_due": 0}
