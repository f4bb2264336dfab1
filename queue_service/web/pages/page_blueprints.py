"""The blueprint every HTML surface is made from: its errors answered as pages in the page's
language, security headers on every page, and pages sent compressed."""

from __future__ import annotations

import gzip
import logging

from flask import Blueprint, Response, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from queue_service.domain.errors import DomainError
from queue_service.web import limits
from queue_service.web.errors import STATUS_OF_CODE, STORE_ERRORS
from queue_service.web.pages.rendering import error_text, render

log = logging.getLogger(__name__)

# Compressing a page smaller than this costs more than it saves.
_MIN_GZIP_BYTES = 512
# Everything a page loads comes from this service (no third-party host can slow or track a
# participant); no inline script; forms post only here; no page can frame ours.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; media-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # /kelola?kode=… must not travel to another site in a Referer.
    "Referrer-Policy": "same-origin",
}


def make_page_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint whose errors are HTML pages in the page's language, and whose pages are
    sent compressed."""
    bp = Blueprint(name, import_name)
    bp.after_request(_finish)

    @bp.errorhandler(DomainError)
    def _domain(error: DomainError):
        return _error_page(error.code, STATUS_OF_CODE.get(error.code, 500))

    @bp.errorhandler(CSRFError)
    def _csrf(_error: CSRFError):
        # An expired or missing form token: the form is simply sent again.
        return render(
            "participant/error.html", status=400, message=error_text("bad_request"), csrf_expired=True
        )

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 429: "rate_limited"}.get(
            error.code or 500, "bad_request"
        )
        response = _error_page(code, error.code or 500)
        if error.code == 429:
            response.headers.update(limits.refusal_headers())
        return response

    def _store_down(error: Exception):
        log.warning("data store unreachable: %s", error)
        response = _error_page("unavailable", 503)
        response.headers["Retry-After"] = "5"
        return response

    for store_error in STORE_ERRORS:
        bp.register_error_handler(store_error, _store_down)
    return bp


def _error_page(code: str, status: int) -> Response:
    return render("participant/error.html", status=status, message=error_text(code))


def _finish(response: Response) -> Response:
    """Security headers on every page, then compression."""
    if response.mimetype == "text/html":
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return _compress(response)


def _compress(response: Response) -> Response:
    """gzip an HTML page for a browser that takes it: most participants are on slow data."""
    if (
        response.mimetype != "text/html"
        or response.direct_passthrough
        or "gzip" not in request.headers.get("Accept-Encoding", "")
        or "Content-Encoding" in response.headers
    ):
        return response
    body = response.get_data()
    if len(body) >= _MIN_GZIP_BYTES:
        response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response
