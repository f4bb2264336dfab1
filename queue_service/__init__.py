"""Antrian: online queue reservations for social-security branch offices."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config import load_settings
from queue_service import extensions, store
from queue_service.api import errors, openapi, ops, public, webhooks
from queue_service.extensions import Clock

# Booking bodies are a few hundred bytes; anything near this is abuse.
MAX_BODY_BYTES = 16 * 1024


def create_app(test_config: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """Build the web app.

    Args:
        test_config: settings that win over the environment.
        clock: returns the current time (timezone-aware); the real clock by default.
    """
    app = Flask(__name__)
    app.config.update(load_settings(overrides=test_config))
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = store.persistent_secret(app.config["VAR_DIR"])
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    extensions.init_app(app, clock=clock)
    errors.register(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(webhooks.bp)
    _add_request_ids(app)
    return app


def _add_request_ids(app: Flask) -> None:
    """Tag each response with ``X-Request-ID`` (the caller's, or a new one), never the body."""

    @app.before_request
    def _remember_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() \
            else uuid.uuid4().hex

    @app.after_request
    def _send_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        return response
