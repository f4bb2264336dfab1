"""The participant's booking pages: area → branch → service → date → slot → details →
(with ``PHONE_VERIFICATION``, the code sent to the phone) → confirmation. Plain forms that
work without JavaScript; the choices that are not personal travel in the URL, the personal
data only in POST bodies.
"""

from __future__ import annotations

import re
import secrets

from flask import current_app, redirect, request, session, url_for
from flask_babel import gettext as _

from queue_service.domain import bookings, catalog, schedules
from queue_service.domain.errors import (
    AlreadyBookedError,
    CaptchaFailedError,
    DomainError,
    HoldExpiredError,
    NotAdmittedError,
    NotBookableError,
    NotFoundError,
    ResendLimitError,
    TooManyBookingsError,
    ValidationFailedError,
    VerificationFailedError,
)
from queue_service.web import booking as web_booking
from queue_service.web import limits
from queue_service.web.errors import STATUS_OF_CODE, domain_error_headers
from queue_service.web.extensions import services
from queue_service.web.pages.booking_details import booking_context
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.phone_check import LAST_BOOKING, hold_context, release_reason
from queue_service.web.pages.rendering import error_text, field_texts, render
from queue_service.web.pages.waiting_room import send_to_room
from queue_service.web.requests import chosen_date, chosen_slot

bp = make_page_blueprint("participant", __name__)

# The fields of the booking form that the API's booking schema reads.
_BOOKING_FIELDS = (
    "branch_id",
    "service_id",
    "date",
    "slot",
    "name",
    "nik",
    "kpj",
    "phone",
    "captcha_id",
    "captcha_answer",
)
_LAST_BOOKING = LAST_BOOKING
# The one-time code as typed: six digits (spaces a phone's autofill or a person adds dropped).
_ONE_TIME_CODE = re.compile(r"[0-9]{6}")


@bp.get("/")
@limits.read
def home():
    """Choose a service area."""
    return render("participant/home.html", areas=catalog.list_areas(services().redis))


@bp.get("/wilayah/<area_id>")
@limits.read
def area(area_id: str):
    """The branches of an area, those taking online bookings first (a retired one is not
    listed: it takes no new bookings)."""
    redis = services().redis
    chosen = next((a for a in catalog.list_areas(redis) if a.id == area_id), None)
    if chosen is None:
        raise NotFoundError("area")
    branches = [
        (branch, schedules.load_settings(redis, branch.id))
        for branch in catalog.list_branches(redis, retired=False)
        if branch.area_id == area_id
    ]
    branches.sort(key=lambda pair: not pair[1].online_booking)
    return render("participant/branches.html", area=chosen, branches=branches)


@bp.get("/cabang/<branch_id>")
@limits.read
def branch(branch_id: str):
    """The services of a branch, each with what to bring; or why it takes no bookings (online
    booking off, or the branch retired)."""
    redis = services().redis
    office = catalog.get_branch(redis, branch_id)
    settings = schedules.load_settings(redis, office.id)
    offered = catalog.offered_services(redis, office)
    return render(
        "participant/services.html",
        branch=office,
        settings=settings,
        services=offered,
    )


@bp.get("/cabang/<branch_id>/<service_id>")
@limits.read
def dates(branch_id: str, service_id: str):
    """The days of the booking window with the places left, or why a day is closed."""
    office, service = _branch_and_service(branch_id, service_id)
    if (to_room := send_to_room(office.id)) is not None:
        return to_room
    days = services().availability.days(office.id, service.id, services().clock())
    return render(
        "participant/dates.html",
        branch=office,
        service=service,
        days=days,
        requirements=service.requirements,
    )


@bp.get("/cabang/<branch_id>/<service_id>/<day>")
@limits.read
def slots(branch_id: str, service_id: str, day: str):
    """The arrival slots of a day; full and closed ones cannot be chosen."""
    office, service = _branch_and_service(branch_id, service_id)
    if (to_room := send_to_room(office.id)) is not None:
        return to_room
    left = services().availability.day(office.id, chosen_date(day), service.id, services().clock())
    return render("participant/slots.html", branch=office, service=service, day=left)


@bp.get("/pesan")
@limits.captcha_creation
def details():
    """The personal data and captcha form for the chosen branch, service, date and slot (each
    showing makes a captcha challenge, so it counts like the API's ``POST /captcha``)."""
    choice = {name: request.args.get(name, "") for name in ("branch_id", "service_id", "date", "slot")}
    office, _service = _branch_and_service(choice["branch_id"], choice["service_id"])
    chosen_date(choice["date"])
    if (to_room := send_to_room(office.id)) is not None:
        return to_room
    return _details_form(choice)


@bp.post("/pesan")
@limits.booking
def book():
    """Book, or show the form again with each error beside its field and the input kept.

    A form sent twice shows the booking the first submission made (``FormAttempts``).
    While the branch's waiting room is open, a browser without a valid pass goes there
    first, and back to this place's form once admitted.
    """
    form = request.form
    to_room = _room_for_form(form)
    if to_room is not None:
        return to_room
    if form.get("action") == "refresh":  # a new captcha image, nothing booked
        return _details_form(form)
    attempts = bookings.FormAttempts(services().redis)
    token = form.get("attempt", "")
    if not attempts.valid(token):
        return _details_form(form, summary=error_text("bad_request"), status=400)
    earlier = attempts.start(token)
    if earlier is not None:
        session[_LAST_BOOKING] = list(earlier)
        return redirect(url_for("participant.confirmation"), 303)
    body = {name: form.get(name, "").strip() for name in _BOOKING_FIELDS}
    if form.get("channel"):  # offered only while WhatsApp is (TWILIO_WHATSAPP_FROM)
        body["channel"] = form["channel"].strip()
    try:
        booking = web_booking.book(body)
    except NotAdmittedError as error:  # nothing spent: the pass is checked first
        attempts.abandon(token)
        if error.detail == "pass_used":
            return _details_form(form, summary=_pass_used_text(), status=403)
        return _room_for_form(form) or _refused(form, error)
    except DomainError as error:  # a spent per-person allowance among them
        attempts.abandon(token)
        return _refused(form, error)
    except BaseException:
        # A store outage or a spent per-address allowance: nothing was booked, the form may
        # be sent again.
        attempts.abandon(token)
        raise
    attempts.finish(token, booking)
    session[_LAST_BOOKING] = [booking.branch_id, booking.code]
    if booking.status == "pending":
        return redirect(url_for("participant.verification"), 303)
    return redirect(url_for("participant.confirmation"), 303)


@bp.get("/privasi")
@limits.read
def privacy():
    """The privacy notice (UU PDP): what the booking form collects and why, the legal basis,
    how long it is kept, who receives it, how to see and erase it, whom to ask."""
    return render(
        "participant/privacy.html",
        retention_days=current_app.config["PERSONAL_DATA_RETENTION_DAYS"],
        contact=current_app.config["PRIVACY_CONTACT"],
        offers_whatsapp=web_booking.whatsapp_offered(),
    )


@bp.get("/pesan/selesai")
@limits.read
def confirmation():
    """The booking just made: queue number, code and QR, where and when, what to bring.
    A place still held for its phone's code (or released unconfirmed) is the verification
    step's, never shown as booked."""
    last = session.get(_LAST_BOOKING)
    if not last:
        return redirect(url_for("participant.home"))
    booking = services().reservations.get(*last)
    if booking.status in ("pending", "expired"):
        return redirect(url_for("participant.verification"), 303)
    return render(
        "participant/confirmation.html", personal=True, **booking_context(services().redis, booking)
    )


@bp.get("/pesan/verifikasi")
@limits.read
def verification():
    """The step after the form while the place is held: the code sent to the phone is typed
    here (this browser's booking only: its signed session names it)."""
    booking = _held_booking()
    if booking is None:
        return redirect(url_for("participant.home"))
    return _verification_page(booking)


@bp.post("/pesan/verifikasi")
@limits.lookup
def verify():
    """Confirm the held place with the one-time code: the confirmation, or the step again
    saying what was wrong, or the page saying the place was released."""
    booking = _held_booking()
    if booking is None:
        return redirect(url_for("participant.home"))
    typed = "".join(request.form.get("otp", "").split())[:32]
    if not _ONE_TIME_CODE.fullmatch(typed):
        return _verification_page(booking, status=422, errors=field_texts({"otp": ["otp_format"]}))
    try:
        services().reservations.verify(booking.code, booking.nik, typed)
    except VerificationFailedError as error:
        if error.left <= 0:
            return _released_page(booking, reason="wrong", status=409)
        return _verification_page(
            booking,
            status=403,
            errors={"otp": [_("Kode salah. Sisa percobaan: %(n)s.", n=error.left)]},
        )
    except HoldExpiredError:
        return _released_page(_refreshed(booking), status=409)
    return redirect(url_for("participant.confirmation"), 303)


@bp.post("/pesan/verifikasi/kirim-ulang")
@limits.lookup
def resend():
    """A new code to the phone (the old one stops working); one a minute, a few a hold."""
    booking = _held_booking()
    if booking is None:
        return redirect(url_for("participant.home"))
    try:
        services().reservations.resend_code(booking.code, booking.nik)
    except ResendLimitError as error:
        context = hold_context(booking)
        if context["resends_left"] <= 0:
            message = _(
                "Kode sudah dikirim ulang %(n)s kali; tidak bisa dikirim lagi untuk antrian ini.",
                n=context["resends_allowed"],
            )
        else:
            message = _(
                "Kirim ulang kode bisa dalam %(s)s detik.", s=error.retry_after or context["resend_in"]
            )
        page = _verification_page(booking, status=429, summary=message)
        page.headers.update(domain_error_headers(error))
        return page
    except HoldExpiredError:
        return _released_page(_refreshed(booking), status=409)
    return _verification_page(_refreshed(booking), resent=True)


def _room_for_form(form):
    """The waiting room of the form's branch, to come back to this place's form from, when
    it is open and this browser holds no valid pass; else None."""
    branch_id = form.get("branch_id", "")
    if not isinstance(branch_id, str) or not branch_id:
        return None
    place = {name: form.get(name, "") for name in ("branch_id", "service_id", "date", "slot")}
    return send_to_room(branch_id, url_for("participant.details", **place))


def _pass_used_text() -> str:
    return _(
        "Giliran ruang tunggu ini sudah dipakai untuk memesan atas NIK lain: satu giliran untuk "
        "satu orang. Untuk memesan bagi orang lain, tunggu sampai izin 10 menit ini habis lalu "
        "masuk ruang tunggu lagi, atau pesan dari perangkat lain."
    )


def _held_booking():
    """This browser's last booking, or None; a confirmed one was already shown."""
    last = session.get(_LAST_BOOKING)
    if not last:
        return None
    return services().reservations.get(*last)


def _refreshed(booking):
    return services().reservations.get(booking.branch_id, booking.code)


def _verification_page(booking, status: int = 200, errors: dict | None = None, **extra):
    """The verification step; a booking past it goes where it belongs."""
    if booking.status not in ("pending", "expired"):
        return redirect(url_for("participant.confirmation"), 303)
    context = hold_context(booking)
    if booking.status == "expired" or context["seconds_left"] <= 0:
        # Released, or about to be by the next reservation or sweep: gone either way.
        return _released_page(booking, status=200 if status == 200 else 409)
    return render(
        "participant/verify.html", status=status, personal=True, errors=errors or {}, **context, **extra
    )


def _released_page(booking, reason: str | None = None, status: int = 200):
    """The held place is gone (time ran out, or the last wrong code): book again."""
    return render(
        "participant/released.html",
        status=status,
        personal=True,
        booking=booking,
        reason=reason or release_reason(booking),
        branch=catalog.get_branch(services().redis, booking.branch_id),
    )


def _refused(form, error: DomainError):
    """The details form again, saying what went wrong and where."""
    if isinstance(error, CaptchaFailedError):
        return _details_form(form, fields={"captcha_answer": [error_text("captcha_failed")]}, status=403)
    if isinstance(error, ValidationFailedError):
        return _details_form(
            form, fields=field_texts(error.fields), status=422, summary=error_text("validation_failed")
        )
    page = _details_form(
        form,
        summary=error_text(error.code),
        status=_status(error),
        # Both are settled by looking the participant's bookings up (and cancelling one).
        already_booked=isinstance(error, (AlreadyBookedError, TooManyBookingsError)),
        choose_again=error.code in ("slot_full", "day_full", "not_bookable"),
    )
    page.headers.update(domain_error_headers(error))  # a spent allowance says when to return
    return page


def _status(error: DomainError) -> int:
    return STATUS_OF_CODE.get(error.code, 500)


def _details_form(values, fields: dict | None = None, summary: str | None = None, status: int = 200, **flags):
    """Render the details form with ``values`` kept, a fresh captcha and a fresh token."""
    office, service = _branch_and_service(values.get("branch_id", ""), values.get("service_id", ""))
    day = chosen_date(values.get("date", ""))
    slot = schedules.find_slot(
        schedules.load_settings(services().redis, office.id), day, chosen_slot(values.get("slot", ""))
    )
    if slot is None:
        raise NotFoundError("slot")
    challenge = services().captcha.create()
    return render(
        "participant/details.html",
        status=status,
        personal=True,
        branch=office,
        service=service,
        day=day,
        slot=slot,
        values=values,
        errors=fields or {},
        summary=summary,
        captcha=challenge,
        attempt=secrets.token_hex(16),
        verifies_phone=services().reservations.holds_places,
        offers_whatsapp=web_booking.whatsapp_offered(),
        **flags,
    )


def _branch_and_service(branch_id: str, service_id: str):
    """The branch and a service it takes new bookings of (else ``_no_longer_bookable``'s page)."""
    redis = services().redis
    office = catalog.get_branch(redis, branch_id)
    return office, catalog.bookable_service(redis, office, service_id)


@bp.errorhandler(NotBookableError)
def _no_longer_bookable(error: NotBookableError):
    """A page of a retired branch, or of a service its branch no longer offers: why, and
    where to book instead (a day or slot that closed is said on the form itself)."""
    if error.detail == catalog.BRANCH_RETIRED:
        message = _("Kantor cabang ini tidak lagi menerima pemesanan antrian. Pilih kantor cabang lain.")
    elif error.detail == catalog.SERVICE_WITHDRAWN:
        message = _(
            "Layanan ini tidak lagi tersedia di kantor cabang ini. Pilih layanan atau kantor cabang lain."
        )
    else:
        message = error_text(error.code)
    return render("participant/error.html", status=409, message=message)
