"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""
from platform_core import create_app

app = create_app()
