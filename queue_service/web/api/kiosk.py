"""Kiosk check-in (SPEC §3 "Kiosk") and the booking code as a QR for kiosks' scanners."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, request

from queue_service.domain.codes import normalise_code
from queue_service.domain.errors import NotFoundError
from queue_service.extensions import services
from queue_service.web import limits
from queue_service.web.api import schemas
from queue_service.web.requests import json_object, load

bp = Blueprint("kiosk_api", __name__, url_prefix="/api/v1")


@bp.post("/kiosk/checkins")
def check_in():
    """Check a booking in at this kiosk's branch, by its code (as typed or scanned)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    kiosk = services().kiosks.authenticate(token.strip() if scheme == "Bearer" else None)
    code = load(schemas.CheckInRequestSchema(), json_object())["code"]
    done = services().checkins.check_in(kiosk, code, services().clock())
    return {"code": done.code, "queue_number": done.queue_number, "status": "checked_in",
            "already_checked_in": done.already_checked_in}


@bp.get("/bookings/<code>/qr.svg", defaults={"kind": "svg"})
@bp.get("/bookings/<code>/qr.png", defaults={"kind": "png"})
@limits.read
def booking_qr(code: str, kind: str):
    """The booking code as a QR (``svg`` or ``png``). It encodes only the code it is given,
    and says nothing of whether a booking has it."""
    normal = normalise_code(code)
    if normal is None:
        raise NotFoundError("qr")
    # A full QR, never a Micro QR (which segno picks for short texts): scanners read it.
    qr = segno.make_qr(normal, error="m")
    out = io.BytesIO()
    if kind == "svg":
        qr.save(out, kind="svg", scale=8, border=2, title=normal)
        mimetype = "image/svg+xml"
    else:
        qr.save(out, kind="png", scale=8, border=2)
        mimetype = "image/png"
    response = Response(out.getvalue(), mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
