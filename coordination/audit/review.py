"""The periodic log review: look-ups by person and by user, random samples with sign-off."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from coordination.audit.models import AccessLogEntry, AuditSample, AuditSampleEntry
from coordination.core.db import utcnow
from coordination.core.errors import IllegalTransition, ValidationFailed
from coordination.core.i18n import STOCKHOLM
from coordination.core.paging import Page, keyset_page
from coordination.extensions import db


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, STOCKHOLM),
        datetime.combine(end + timedelta(days=1), time.min, STOCKHOLM),
    )


def entries_for_person(person_id: int, limit: int = 500) -> list[AccessLogEntry]:
    """Return who has accessed this person's data, newest first."""
    return list(
        db.session.scalars(
            select(AccessLogEntry)
            .where(AccessLogEntry.person_id == person_id)
            .order_by(AccessLogEntry.id.desc())
            .limit(limit)
        )
    )


def entries_for_user(user_id: int) -> Page:
    """Return a page of what one user has done, newest first."""
    return keyset_page(
        select(AccessLogEntry).where(AccessLogEntry.user_id == user_id),
        [AccessLogEntry.at],
        AccessLogEntry.id,
        descending=True,
    )


def person_entries_page(person_id: int) -> Page:
    """Return a page of who has accessed this person's data, newest first."""
    return keyset_page(
        select(AccessLogEntry).where(AccessLogEntry.person_id == person_id),
        [AccessLogEntry.at],
        AccessLogEntry.id,
        descending=True,
    )


def draw_sample(*, start: date, end: date, size: int, by, rng=None) -> AuditSample:
    """Draw a random sample of accesses to personal data in the period."""
    errors: dict[str, list[str]] = {}
    if end < start:
        errors["period_to"] = [_("Periodens slut kan inte ligga före dess början.")]
    if not 1 <= size <= 500:
        errors["size"] = [_("Ange ett urval mellan 1 och 500 rader.")]
    if errors:
        raise ValidationFailed(_("Urvalet kunde inte göras."), errors=errors)
    low, high = _bounds(start, end)
    ids = list(
        db.session.scalars(
            select(AccessLogEntry.id).where(
                AccessLogEntry.at >= low,
                AccessLogEntry.at < high,
                AccessLogEntry.person_id.is_not(None),
            )
        )
    )
    chosen = sorted((rng or random.SystemRandom()).sample(ids, min(size, len(ids))))
    sample = AuditSample(period_from=start, period_to=end, size=len(chosen), created_by_id=by.id)
    sample.entries = [AuditSampleEntry(entry_id=i) for i in chosen]
    db.session.add(sample)
    db.session.flush()
    return sample


def sign_off(sample: AuditSample, *, by, finding: str) -> AuditSample:
    """Record the reviewer's sign-off and finding; a signed sample cannot change."""
    if sample.signed_at is not None:
        raise IllegalTransition(_("Urvalet är redan signerat."))
    if not finding.strip():
        raise ValidationFailed(
            _("Skriv vad granskningen visade."),
            errors={"finding": [_("Skriv vad granskningen visade, också när allt var i ordning.")]},
        )
    sample.signed_by_id = by.id
    sample.signed_at = utcnow()
    sample.finding = finding.strip()
    db.session.flush()
    return sample


def break_glass_count(start: date, end: date) -> int:
    """Count emergency accesses in a period (shown on the review page)."""
    low, high = _bounds(start, end)
    return db.session.scalar(
        select(func.count()).where(
            AccessLogEntry.break_glass.is_(True), AccessLogEntry.at >= low, AccessLogEntry.at < high
        )
    )
