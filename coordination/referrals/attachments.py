"""Attachment storage: allow-listed types, a size limit, files outside the web root."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from coordination.core.actor import Actor
from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from coordination.referrals.models import Attachment, Referral

ALLOWED = {
    ".pdf": ("application/pdf", [b"%PDF"]),
    ".png": ("image/png", [b"\x89PNG"]),
    ".jpg": ("image/jpeg", [b"\xff\xd8\xff"]),
    ".jpeg": ("image/jpeg", [b"\xff\xd8\xff"]),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        [b"PK\x03\x04"],
    ),
    ".odt": ("application/vnd.oasis.opendocument.text", [b"PK\x03\x04"]),
    ".txt": ("text/plain", []),
}


def storage_dir() -> Path:
    """Return the attachment folder (outside the web root), creating it if needed."""
    folder = Path(current_app.config["COORD"]["ATTACHMENT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store(referral: Referral, *, filename: str, content: bytes, by: Actor) -> Attachment:
    """Check and store one uploaded file for a referral."""
    limit = int(current_app.config["COORD"]["ATTACHMENT_MAX_BYTES"])
    name = Path(filename or "").name
    suffix = Path(name).suffix.lower()
    errors = []
    if not name:
        errors.append(_("Välj en fil att bifoga."))
    elif suffix not in ALLOWED:
        errors.append(
            _(
                "Filtypen tillåts inte. Tillåtna typer: %(types)s.",
                types=", ".join(sorted(s.lstrip(".") for s in ALLOWED)),
            )
        )
    elif ALLOWED[suffix][1] and not any(content.startswith(m) for m in ALLOWED[suffix][1]):
        errors.append(_("Filens innehåll stämmer inte med filtypen."))
    if len(content) > limit:
        errors.append(
            _("Filen är för stor. Största tillåtna storlek är %(mb)s MB.", mb=limit // 1048576)
        )
    if not content and name:
        errors.append(_("Filen är tom."))
    if errors:
        raise ValidationFailed(errors[0], errors={"file": errors})
    key = secrets.token_hex(32)
    (storage_dir() / key).write_bytes(content)
    attachment = Attachment(
        referral=referral,
        filename=name[:255],
        content_type=ALLOWED[suffix][0],
        size=len(content),
        storage_key=key,
        uploaded_by_id=by.id,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def path_of(attachment: Attachment) -> Path:
    """Return where an attachment's bytes are stored."""
    return storage_dir() / attachment.storage_key
