"""What the confirmation and the manage pages show of a booking, its QR code among it."""

from __future__ import annotations

import segno
from flask_babel import gettext as _
from redis import Redis

from queue_service.domain import catalog
from queue_service.domain.reservations import Booking


def booking_context(redis: Redis, booking: Booking) -> dict:
    """What the confirmation and the manage pages show of a booking."""
    office = catalog.get_branch(redis, booking.branch_id)
    service = catalog.service_at(redis, booking.branch_id, booking.service_id)
    # A full QR, never a Micro QR (which segno.make picks for short texts): kiosk scanners
    # and phone cameras read the first. It holds the code alone, as a scanner types it.
    qr = segno.make_qr(booking.code, error="m").svg_inline(
        scale=4, border=4, dark="#111", light="#fff", omitsize=True, title=_("Kode QR antrian")
    )
    return {
        "booking": booking,
        "branch": office,
        "service": service,
        "qr": qr,
        "requirements": service.requirements,
    }
