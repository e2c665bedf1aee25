"""Secrets at rest: the TOTP secrets are stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256).

The key is COORD_TOTP_ENCRYPTION_KEY: one or more Fernet keys separated by commas, the first one
encrypts and every one decrypts (rotation: put the new key first, re-save, drop the old one). When
it is empty the key is derived from COORD_SECRET_KEY with HKDF, so changing the secret key without
setting the old derived key here makes the stored secrets unreadable (users enrol again).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import String, Text, TypeDecorator

_INFO = b"coordination: TOTP secrets at rest"


def derived_key(secret_key: str) -> str:
    """Return the Fernet key derived from the app's secret key."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw).decode()


@lru_cache(maxsize=8)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])


def _current() -> MultiFernet:
    settings = current_app.config["COORD"]
    return _fernet(settings.get("TOTP_ENCRYPTION_KEY") or derived_key(settings["SECRET_KEY"]))


def encrypt_text(value: str) -> str:
    """Encrypt a short text with the app's key."""
    return _current().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    """Decrypt a text encrypted with any of the app's keys; refuse anything else."""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise RuntimeError(
            "A stored TOTP secret cannot be decrypted: COORD_TOTP_ENCRYPTION_KEY (or the secret "
            "key it is derived from) is not the one it was encrypted with"
        ) from exc


class EncryptedString(TypeDecorator):
    """A text column holding a Fernet token; Python sees the plain text."""

    impl = String(255)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt_text(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt_text(value)


class EncryptedText(EncryptedString):
    """A long text (an ID token) stored as a Fernet token."""

    impl = Text()
    cache_ok = True
