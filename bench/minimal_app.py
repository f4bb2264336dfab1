"""The reference of ``make bench``: a minimal Flask app served exactly as the service is.

Runs ``queue-service serve`` itself (``queue_service.cli``) with ``create_app`` swapped for
this one-route app, so the gunicorn set-up (workers, threads, worker class, access log,
whatever ``cli.py`` configures) is the service's own and the bare endpoints can be compared
with it.

    .venv/bin/python bench/minimal_app.py --host 127.0.0.1 --port 8001
"""

from __future__ import annotations

import sys

from flask import Flask

import queue_service
from queue_service import cli


def create_app() -> Flask:
    """One route that answers a small JSON object, as ``/healthz`` does."""
    app = Flask(__name__)

    @app.get("/")
    def index():
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    queue_service.create_app = create_app  # cli.cmd_serve imports it from the package when it runs
    sys.exit(cli.main(["serve", *sys.argv[1:]]))
