"""Antrian: online queue reservations for social-security branch offices."""

from __future__ import annotations

import inspect
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, jsonify, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from config import load_settings
from queue_service.domain import calendar
from queue_service.domain.clock import Clock
from queue_service.store import connect as store
from queue_service.web import errors, extensions, i18n
from queue_service.web import logging as web_logs
from queue_service.web import metrics as request_metrics
from queue_service.web.api import (
    accounts_admin,
    admin,
    catalog_admin,
    closures_admin,
    counters,
    kiosk,
    openapi,
    ops,
    public,
    waiting_room,
    waitlist,
    webhooks,
)
from queue_service.web.api import display as display_api
from queue_service.web.pages import (
    accounts_console,
    assets,
    catalog_console,
    closures_console,
    counter,
    display,
    manage,
    participant,
)
from queue_service.web.pages import admin as admin_pages
from queue_service.web.pages import kiosk as kiosk_pages
from queue_service.web.pages import waiting_room as waiting_room_page
from queue_service.web.pages import waitlist as waitlist_pages
from queue_service.web.pages.template_helpers import template_helpers
from queue_service.web.security_headers import add_security_headers
from queue_service.web.sessions import CachedSerializerSessions

# Booking bodies are a few hundred bytes; anything near this is abuse.
MAX_BODY_BYTES = 16 * 1024

csrf = CSRFProtect()


class SyncFlask(Flask):
    """Flask that asks once per view or hook whether it is a coroutine function, where Flask
    asks ``inspect`` again on every call: eight times a request here.

    The answers are held weakly, so a function made for one request (``after_this_request``)
    leaves with that request instead of piling up for the life of the process.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._is_coroutine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def ensure_sync(self, func):
        try:
            is_coroutine = self._is_coroutine.get(func)
            if is_coroutine is None:
                is_coroutine = self._is_coroutine[func] = inspect.iscoroutinefunction(func)
        except TypeError:  # not weakly referable: ask each time, as Flask does
            return super().ensure_sync(func)
        return super().ensure_sync(func) if is_coroutine else func


def create_app(test_config: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """Build the web app.

    Args:
        test_config: settings that win over the environment.
        clock: returns the current time (timezone-aware); the real clock by default.
    """
    # Static files are served by web/pages/assets.py, under fingerprinted URLs.
    app = SyncFlask(__name__, template_folder="web/templates", static_folder=None)
    app.config.update(load_settings(overrides=test_config))
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False
    app.config["SECRET_KEY"] = store.secret_key(app.config)
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    web_logs.configure(app.config["LOG_FORMAT"])

    # The pages' session cookie carries only the last booking's code (signed, not secret).
    # (Flask's defaults hold these keys already: setdefault would keep None and False.)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config["APP_ENV"] == "production"
    app.session_interface = CachedSerializerSessions()

    request_metrics.init_app(app)
    services = extensions.init_app(app, clock=clock)
    calendar.warm_up(services.clock().date())
    i18n.init_app(app)
    errors.register(app)
    ops.keep_metrics_port_to_metrics(app)  # before any other hook can answer
    # The JSON API takes only application/json bodies, which no other site can post
    # without a CORS preflight, and authenticates with bearer tokens: no CSRF token there.
    for api in (
        public.bp,
        waiting_room.bp,
        waitlist.bp,
        ops.bp,
        openapi.bp,
        webhooks.bp,
        closures_admin.bp,
        admin.bp,
        catalog_admin.bp,
        accounts_admin.bp,
        kiosk.bp,
        counters.bp,
        display_api.bp,
    ):
        csrf.exempt(api)
        app.register_blueprint(api)
    csrf.init_app(app)
    app.register_blueprint(assets.bp)
    app.register_blueprint(participant.bp)
    app.register_blueprint(waiting_room_page.bp)
    app.register_blueprint(waitlist_pages.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(admin_pages.bp)
    app.register_blueprint(accounts_console.bp)
    app.register_blueprint(closures_console.bp)
    app.register_blueprint(catalog_console.bp)
    app.register_blueprint(kiosk_pages.bp)
    app.register_blueprint(counter.bp)
    app.register_blueprint(display.bp)
    app.context_processor(template_helpers)
    _add_request_ids(app)
    _answer_options_in_json(app)
    add_security_headers(app)
    return app


def _answer_options_in_json(app: Flask) -> None:
    """``OPTIONS`` answers the allowed methods as JSON (Flask's own answer has an empty body).

    No ``Access-Control-*`` header is sent: a CORS preflight from another site still fails,
    which is what keeps other sites from posting JSON to the API.
    """

    @app.after_request
    def _options_body(response):
        if request.method == "OPTIONS" and response.status_code == 200 and not response.data:
            allowed = sorted(response.allow)
            json_response = jsonify(allow=allowed)
            json_response.allow.update(allowed)
            return json_response
        return response


def _add_request_ids(app: Flask) -> None:
    """Tag each response with ``X-Request-ID`` (the caller's, or a new one), never the body."""

    @app.before_request
    def _remember_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex

    @app.after_request
    def _send_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        return response
