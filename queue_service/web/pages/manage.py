"""Look up, reschedule and cancel a booking by its code and NIK, and erase its personal data.
Every form is a POST, so the NIK travels in the body, never in a URL or an access log."""

from __future__ import annotations

from flask import redirect, request, url_for

from queue_service.domain.errors import DomainError, NotFoundError
from queue_service.domain.reservations.erase import erasable
from queue_service.notifications.delivery import MANAGE_LINK_PATH
from queue_service.web import booking as web_booking
from queue_service.web import limits
from queue_service.web.errors import STATUS_OF_CODE
from queue_service.web.extensions import services
from queue_service.web.pages.booking_details import booking_context
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.phone_check import hold_deadline, own_booking
from queue_service.web.pages.rendering import error_text, render
from queue_service.web.requests import chosen_slot, parse_date

bp = make_page_blueprint("manage", __name__)


@bp.get(f"{MANAGE_LINK_PATH}<code>")
def short_link(code: str):
    """The SMS's short link: the look-up form with the booking code filled in (the NIK is
    typed; it never travels in a URL)."""
    return redirect(url_for("manage.lookup_form", kode=code[:32]))


@bp.get("/kelola")
@limits.read
def lookup_form():
    """The look-up form; ``?kode=`` fills in the code (the link of the SMS and the
    confirmation: a code alone shows nothing)."""
    return render("participant/lookup.html", values={"code": request.args.get("kode", "")})


@bp.post("/kelola")
@limits.lookup
@limits.failed_lookup
def lookup():
    """The booking with this code and NIK, with what can be done with it."""
    values = _credentials()
    try:
        booking = services().reservations.lookup(values["code"], values["nik"])
    except NotFoundError:
        # 404, so the failed look-up limit counts it, as the API's would.
        return render(
            "participant/lookup.html",
            status=404,
            personal=True,
            values=values,
            summary=error_text("not_found"),
        )
    return _manage_page(booking, values)


@bp.post("/kelola/batal")
@limits.lookup
@limits.failed_lookup
def cancel():
    """Cancel the booking; the slot, the quota and the NIK's date are freed at once."""
    values = _credentials()
    reservations = services().reservations
    # A place still held for its phone's code is let go without an SMS: say none comes.
    held = reservations.lookup(values["code"], values["nik"]).status == "pending"
    booking = reservations.cancel(values["code"], values["nik"], services().clock())
    return render("participant/cancelled.html", personal=True, booking=booking, held=held)


@bp.post("/kelola/hapus-data")
@limits.lookup
@limits.failed_lookup
def erase():
    """Erase the personal data of a cancelled or past booking (the page asks to confirm)."""
    values = _credentials()
    booking = services().reservations.erase(values["code"], values["nik"], services().clock())
    return render("participant/erased.html", personal=True, booking=booking)


@bp.post("/kelola/ubah")
@limits.lookup
@limits.failed_lookup
def reschedule():
    """Choose a new date, then a new slot, then move the booking in one step."""
    values = _credentials()
    reservations = services().reservations
    booking = reservations.lookup(values["code"], values["nik"])
    day = parse_date(request.form.get("date", ""))
    slot = request.form.get("slot", "")
    now = services().clock()
    # The same reader as the booking pages', so both offer the same days and slots.
    if day is None:
        days = services().availability.days(booking.branch_id, booking.service_id, now)
        return render(
            "participant/reschedule.html",
            personal=True,
            values=values,
            days=days,
            **booking_context(services().redis, booking),
        )
    if not slot:
        left = services().availability.day(booking.branch_id, day, booking.service_id, now)
        return render(
            "participant/reschedule.html",
            personal=True,
            values=values,
            day=left,
            **booking_context(services().redis, booking),
        )
    try:
        web_booking.admit_move(booking.branch_id, values["nik"])
        moved = reservations.reschedule(values["code"], values["nik"], day, chosen_slot(slot), now)
    except DomainError as error:
        if isinstance(error, NotFoundError):
            raise
        return _manage_page(
            booking, values, status=STATUS_OF_CODE.get(error.code, 409), summary=error_text(error.code)
        )
    return _manage_page(moved, values, done=True)


def _manage_page(booking, values, status: int = 200, summary: str | None = None, done: bool = False):
    place = None
    context = booking_context(services().redis, booking)
    if booking.status == "checked_in":
        place = services().live_queue.place_of(booking.branch_id, booking.queue_number, services().clock())
    return render(
        "participant/manage.html",
        status=status,
        personal=True,
        values=values,
        summary=summary,
        done=done,
        place=place,
        own_hold=own_booking(booking),
        hold_deadline=hold_deadline(booking),
        erasable=erasable(booking, context["branch"].timezone, services().clock()),
        **context,
    )


def _credentials() -> dict[str, str]:
    return {"code": request.form.get("code", "")[:32], "nik": request.form.get("nik", "")[:32]}
