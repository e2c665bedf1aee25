"""Rendering a notification in its recipient's language: title, email (text and HTML), SMS."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app, render_template
from flask_babel import force_locale, format_date

from coordination.auth.activation import activation_link, awaits_activation
from coordination.auth.models import User
from coordination.core.db import utcnow
from coordination.extensions import db
from notifications.invitations import attachments as calendar_attachments
from notifications.kinds import TITLES
from notifications.models import Notification


@dataclass(frozen=True)
class Rendered:
    """The words of one message."""

    title: str
    text: str
    html: str
    url: str | None


def _params(notification: Notification) -> dict:
    """Return the params ready for display: ISO dates (keys ending in _on) in the locale."""
    shown = {}
    for name, value in (notification.params or {}).items():
        if name.endswith("_on") and isinstance(value, str):
            value = format_date(date.fromisoformat(value), "long")
        shown[name] = value
    return shown


def title_of(notification: Notification) -> str:
    """Return the notification's one-line title in the current locale."""
    return str(TITLES[notification.template]) % _params(notification)


def absolute_url(link: str | None) -> str | None:
    """Return BASE_URL plus a relative link."""
    if not link:
        return None
    return current_app.config["COORD"]["BASE_URL"].rstrip("/") + link


def _link(notification: Notification) -> str | None:
    """The message's link; an account's activation link is made now, never stored."""
    if notification.template == "account_activation":
        user = db.session.get(User, notification.recipient_id)
        return activation_link(user) if user is not None and awaits_activation(user) else None
    return notification.link


def render(notification: Notification) -> Rendered:
    """Render title, text and HTML bodies from templates/emails in the recipient's locale."""
    with force_locale(notification.locale or "sv"):
        title = title_of(notification)
        url = absolute_url(_link(notification))
        context = {
            "title": title,
            "url": url,
            "params": _params(notification),
            "locale": notification.locale or "sv",
        }
        text = render_template(f"emails/{notification.template}.txt", **context)
        html = render_template(f"emails/{notification.template}.html", **context)
    return Rendered(title=title, text=text, html=html, url=url)


def message_id(idempotency_key: str) -> str:
    """Return a Message-ID that is the same every time the same notification is sent."""
    sender = current_app.config["COORD"]["MAIL_FROM"]
    domain = sender.rpartition("@")[2] or "samordning.invalid"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def email_message(notification: Notification, to: str) -> EmailMessage:
    """Build the email (text and HTML alternatives) for a notification."""
    rendered = render(notification)
    message = EmailMessage()
    message["Subject"] = rendered.title
    message["From"] = current_app.config["COORD"]["MAIL_FROM"]
    message["To"] = to
    message["Message-ID"] = message_id(notification.idempotency_key)
    message["Date"] = format_datetime(utcnow())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for name, payload, method in calendar_attachments(notification):
        message.add_attachment(
            payload,
            maintype="text",
            subtype="calendar",
            filename=name,
            params={"method": method, "charset": "utf-8"},
        )
    message["Content-Language"] = notification.locale or "sv"  # after: set_content clears it
    return message


def sms_text(notification: Notification) -> str:
    """Return the SMS text: the title and the link."""
    with force_locale(notification.locale or "sv"):
        title = title_of(notification)
    url = absolute_url(notification.link)
    return f"{title} {url}" if url else title
