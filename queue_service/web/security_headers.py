"""Headers every answer carries, whoever made it: pages set their own stricter set
(``pages/page_blueprints.py``); this covers the JSON API, files, media and errors."""

from __future__ import annotations

from flask import Flask, Response, request

# The admin API answers with bookings (masked), audit entries, accounts and tokens: no
# browser, proxy or disk cache may keep them.
_PRIVATE_PREFIXES = ("/api/v1/admin/",)
# A year, subdomains included: the service's host is only ever served over HTTPS.
_HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(app: Flask) -> None:
    """``X-Content-Type-Options: nosniff`` on every answer, so that no browser reads a JSON,
    CSV or audio answer as HTML; ``Cache-Control: no-store`` on the admin API's; in production
    ``Strict-Transport-Security`` (browsers heed it only over HTTPS, which production is)."""
    production = app.config["APP_ENV"] == "production"

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if production:
            response.headers.setdefault("Strict-Transport-Security", _HSTS)
        if request.path.startswith(_PRIVATE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        return response
