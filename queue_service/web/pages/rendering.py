"""How a page is made: its template rendered with the right caching, and the API's texts
(error and field messages) in the page's language."""

from __future__ import annotations

from flask import Response, render_template

from queue_service.web import i18n, messages


def error_text(code: str, args: dict | None = None) -> str:
    """The API's message for an error code, in the page's language (one copy of the texts)."""
    return messages.error_message(code, i18n.page_locale(), args)


def field_texts(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """Field message keys (as the API's schemas and the domain give them) as text."""
    locale = i18n.page_locale()
    return {name: [messages.field_message(key, locale) for key in keys] for name, keys in fields.items()}


def render(template: str, status: int = 200, personal: bool = False, **context) -> Response:
    """The page ``template``; ``personal`` pages (NIK, phone, booking) are never cached."""
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store" if personal else "no-cache"
    return response
