"""`flask notifications sweep`: one sweep now (what beat runs every minute)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register_cli(app: Flask) -> None:
    """Attach the notification commands to `flask`."""
    group = AppGroup("notifications", help="Reminders and message delivery.")

    @group.command("sweep")
    def sweep_command() -> None:
        """Fire due reminders and enqueue due messages, as the beat task does."""
        from notifications.delivery import sweep

        result = sweep()
        if not result.ran:
            click.echo("another sweep is running")
            return
        click.echo(f"reminders_fired={result.reminders_fired} enqueued={len(result.enqueued)}")

    app.cli.add_command(group)
