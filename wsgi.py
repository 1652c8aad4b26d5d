"""WSGI entry point: builds the app and nothing else (web workers never run scheduled jobs)."""

from tracker import create_app

app = create_app()
