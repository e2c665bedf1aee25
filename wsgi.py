"""The WSGI entry point: `gunicorn wsgi:app`."""

from coordination.app import create_app

app = create_app()
