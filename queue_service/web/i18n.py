"""The pages' language: Bahasa Indonesia unless the participant chose English.

The choice is made with ``?lang=en`` (the visible switch on every page) and kept in a
cookie. Page texts are written in Indonesian and translated by the Flask-Babel catalogs
under ``web/translations`` (``make translations`` compiles them). The JSON API keeps its
own choice (``Accept-Language``, see ``web.errors.locale``).
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, Response, request, url_for
from flask_babel import Babel, format_date

from queue_service.web import messages

COOKIE = "lang"
_ONE_YEAR = 365 * 24 * 3600

babel = Babel()


def page_locale() -> str:
    """``?lang=``, else the cookie, else Indonesian."""
    for choice in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if choice in messages.LOCALES:
            return choice
    return messages.DEFAULT_LOCALE


def switch_url(locale: str) -> str:
    """This page in ``locale``: the same URL for a page that was fetched; for the answer to
    a form (a POST, which a link cannot repeat) the page where that form starts again."""
    if request.method == "GET" and request.endpoint:
        return url_for(
            request.endpoint, **(request.view_args or {}), **{**request.args.to_dict(), "lang": locale}
        )
    if request.endpoint == "participant.book":
        # The chosen place is not personal; the personal data is typed again.
        place = {name: request.form.get(name, "") for name in ("branch_id", "service_id", "date", "slot")}
        return url_for("participant.details", **place, lang=locale)
    if (request.endpoint or "").startswith("manage."):
        return url_for("manage.lookup_form", lang=locale)
    return url_for("participant.home", lang=locale)


def long_date(day: dt.date) -> str:
    """ "Senin, 23 November 2026" (or "Monday, 23 November 2026")."""
    return format_date(day, "EEEE, d MMMM y")


def short_date(day: dt.date) -> str:
    """ "Sen, 23 Nov" (or "Mon, 23 Nov"), for lists of days."""
    return format_date(day, "EEE, d MMM")


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to ``app`` and keep a ``?lang=`` choice in a cookie."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", messages.DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "web/translations")
    babel.init_app(app, locale_selector=page_locale)
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["short_date"] = short_date

    @app.after_request
    def _remember_choice(response: Response) -> Response:
        if b"lang=" not in request.query_string:  # spares parsing the query of every request
            return response
        choice = request.args.get("lang")
        if choice in messages.LOCALES and request.cookies.get(COOKIE) != choice:
            response.set_cookie(COOKIE, choice, max_age=_ONE_YEAR, samesite="Lax", httponly=True)
        return response
