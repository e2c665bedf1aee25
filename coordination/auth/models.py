"""User accounts and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.auth.encryption import EncryptedString, EncryptedText
from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.context import current_id

PLATFORM_ROLES = ("platform_admin", "national_analyst")


class User(UserMixin, db.Model):
    """A member of staff at a member agency or the förbund."""

    __tablename__ = "user_account"
    __table_args__ = (
        check_in("locale", ["sv", "en"]),
        check_in("platform_role", PLATFORM_ROLES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="sv")
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Encrypted at rest; deferred: decrypted where a code is checked, not for every listed user.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString, deferred=True)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int] = mapped_column(default=0)
    # Wrong codes in a row (forgotten a day after the last one) and the code step's lock.
    totp_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    totp_last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What an organisation's identity provider says about the person (coordination/auth/oidc):
    # the HSA-id as given, the personnummer only as a keyed digest (see oidc/identities.py).
    hsa_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A role on the installation rather than in a förbund (coordination/tenancy): the platform
    # administrator creates förbund and their first admins; the national analyst reads statistics
    # across förbund, aggregated only. Neither sees any case content.
    platform_role: Mapped[str | None] = mapped_column(String(20))
    personnummer_digest: Mapped[str | None] = mapped_column(String(64), unique=True)

    memberships = relationship(
        "Membership", back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def roles(self) -> set[str]:
        """Return every role the user holds in any unit."""
        return {m.role for m in self.memberships}

    def has_any_role(self, roles: Iterable[str]) -> bool:
        """Tell whether the user holds any of the roles."""
        return bool(self.roles & {str(r) for r in roles})

    def units_with(self, role: str) -> list:
        """Return the units in which the user holds the role."""
        return [m.unit for m in self.memberships if m.role == str(role)]

    @property
    def agency_kinds(self) -> set[str]:
        """Return the agency kinds of every unit the user belongs to."""
        return {m.unit.agency_kind for m in self.memberships}


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # The förbund the token works in: the one its owner worked in when creating it.
    forbund_id: Mapped[int | None] = mapped_column(ForeignKey("forbund.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(default=False)
    label: Mapped[str | None] = mapped_column(String(100))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class PendingLogin(db.Model):
    """A login between the password and the second factor; the cookie holds only its nonce.

    It ends when the code is accepted ("completed") or after too many wrong codes
    ("too_many_codes"), and lapses five minutes after the password: a copied cookie then leads
    nowhere, and every copy shares one count of wrong codes.
    """

    __tablename__ = "pending_login"
    __table_args__ = (
        check_in("end_reason", ["completed", "too_many_codes"]),
        Index("ix_pending_login_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(default=0)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    enrol_secret: Mapped[str | None] = mapped_column(EncryptedString)  # first enrolment only

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """A signed-in browser session, kept on the server so that it can be ended from here."""

    __tablename__ = "user_session"
    __table_args__ = (
        check_in("method", ["password", "oidc"]),
        Index("ix_user_session_provider_id", "provider_id"),
        Index("ix_user_session_provider_sid", "provider_sid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(30))
    # How the session began: "password" (with or without TOTP) or "oidc" through a unit's provider,
    # with the assurance level (acr) it reported and, for RP-initiated logout, the ID token.
    method: Mapped[str] = mapped_column(String(10), default="password", server_default="password")
    assurance: Mapped[str | None] = mapped_column(String(200))
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("oidc_provider.id", ondelete="SET NULL")
    )
    id_token: Mapped[str | None] = mapped_column(EncryptedText, deferred=True)
    # The provider's subject and session id (sid) from the ID token: back-channel logout names them.
    provider_sub: Mapped[str | None] = mapped_column(String(255))
    provider_sid: Mapped[str | None] = mapped_column(String(255))


class LoginThrottle(db.Model):
    """Failed logins per account (by a hash of the address): too many lock it for a while."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


OIDC_CLAIMS = ("hsa_id", "personnummer", "email")


class OidcProvider(db.Model):
    """An organisation unit's OpenID Connect identity provider (DOMAIN.md §15).

    The client secret is never stored: `secret_env` names the environment variable that holds it.
    `claim` is the verified ID-token claim that identifies the user; `min_acr` an optional lowest
    assurance level for everyone who signs in through this provider.
    """

    __tablename__ = "oidc_provider"
    __table_args__ = (check_in("claim", OIDC_CLAIMS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("organisation_unit.id", ondelete="CASCADE"), unique=True
    )
    # The unit's förbund: the login page and the sign-in read the unit within it (the provider
    # itself is the installation's, read before anyone has chosen a förbund).
    forbund_id: Mapped[int | None] = mapped_column(
        ForeignKey("forbund.id", ondelete="CASCADE"), default=current_id
    )
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    secret_env: Mapped[str] = mapped_column(String(100))
    claim: Mapped[str] = mapped_column(String(20))
    min_acr: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit = relationship("OrganisationUnit")
