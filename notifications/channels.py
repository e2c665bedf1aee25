"""Delivery channels: SMTP email, and SMS through a provider (HTTP, or a file in development)."""

from __future__ import annotations

import json
import logging
import os
import smtplib
import socket
import threading
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from coordination.core.db import utcnow

log = logging.getLogger(__name__)


class SmtpMailer:
    """Sends email over one SMTP connection kept open per process (reconnects when dropped)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30,
    ) -> None:
        self.host, self.port = host, int(port)
        self.user, self.password = user, password
        self.starttls, self.timeout = starttls, timeout
        self._connection: smtplib.SMTP | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        # smtplib writes a command and waits for its reply: without NODELAY, Nagle's algorithm
        # and delayed ACKs add ~40 ms to several steps of every message.
        assert connection.sock is not None  # connected by the constructor
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.starttls:
            connection.starttls()
        if self.user:
            connection.login(self.user, self.password or "")
        return connection

    def close(self) -> None:
        """Close the connection if one is open."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()

    def send(self, message: EmailMessage) -> None:
        """Send one message; return only once the server has accepted it."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child never reuses its parent's socket
                self._connection, self._pid = None, os.getpid()
            if self._connection is not None:
                try:
                    self._connection.send_message(message)
                    return
                except smtplib.SMTPServerDisconnected:
                    # Dropped while idle: the server never accepted this message; reconnect once.
                    self._connection = None
                except (smtplib.SMTPException, OSError):
                    self.close()
                    raise
            self._connection = self._connect()
            try:
                self._connection.send_message(message)
            except (smtplib.SMTPException, OSError):
                self.close()
                raise


class SmsProvider(Protocol):
    """Anything that can send a short text message to a phone number."""

    def send(self, to: str, text: str, reference: str) -> None:
        """Send the text; raise if the provider did not accept it."""


class FileSmsProvider:
    """The development backend: appends one JSON line per message to a file."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def send(self, to: str, text: str, reference: str) -> None:
        """Append the message to the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"at": utcnow().isoformat(), "to": to, "text": text, "reference": reference},
            ensure_ascii=False,
        )
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class HttpSmsProvider:
    """POSTs {"to", "text", "reference"} as JSON to the provider with a bearer token."""

    def __init__(self, url: str, token: str | None, timeout: float = 15) -> None:
        if not url:
            raise ValueError("COORD_SMS_URL is required for the http SMS backend")
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, to: str, text: str, reference: str) -> None:
        """Send the message; a non-2xx answer raises."""
        body = json.dumps({"to": to, "text": text, "reference": reference}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("Idempotency-Key", reference)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise OSError(f"SMS provider answered {response.status}")


def sms_provider(settings: dict) -> SmsProvider:
    """Return the SMS provider chosen by SMS_BACKEND ("file" or "http")."""
    backend = settings.get("SMS_BACKEND", "file")
    if backend == "http":
        return HttpSmsProvider(settings["SMS_URL"], settings.get("SMS_TOKEN"))
    if backend == "file":
        return FileSmsProvider(settings["SMS_FILE"])
    raise ValueError(f"unknown SMS_BACKEND {backend!r}")


_mailers: dict[tuple, SmtpMailer] = {}


def mailer(settings: dict) -> SmtpMailer:
    """Return this process's mailer for the configured SMTP server."""
    key = (
        settings["SMTP_HOST"],
        int(settings["SMTP_PORT"]),
        settings.get("SMTP_USER"),
        bool(settings.get("SMTP_STARTTLS")),
    )
    if key not in _mailers:
        _mailers[key] = SmtpMailer(
            key[0],
            key[1],
            user=settings.get("SMTP_USER"),
            password=settings.get("SMTP_PASSWORD"),
            starttls=bool(settings.get("SMTP_STARTTLS")),
            timeout=float(settings.get("SMTP_TIMEOUT", 30)),
        )
    return _mailers[key]
