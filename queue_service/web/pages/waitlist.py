"""The waitlist's pages: join a full day's (or slot's) waitlist with the booking's form, and the
page an offer's message links to, ``/daftar-tunggu/<id>``, which shows where the entry stands
(its place in line, or the place offered and until when) and accepts the offer, or leaves the
waitlist, with the NIK. Plain forms that work without JavaScript; the NIK only in POST bodies.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import redirect, request, session, url_for
from flask_babel import gettext as _

from queue_service.domain import catalog, schedules
from queue_service.domain.errors import (
    CaptchaFailedError,
    DomainError,
    ResendLimitError,
    ValidationFailedError,
)
from queue_service.web import booking as web_booking
from queue_service.web import limits, waitlisting
from queue_service.web.errors import STATUS_OF_CODE, domain_error_headers
from queue_service.web.extensions import services
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.phone_check import LAST_BOOKING
from queue_service.web.pages.rendering import error_text, field_texts, render
from queue_service.web.requests import chosen_date, chosen_slot

bp = make_page_blueprint("waitlist_page", __name__)

_JOIN_FIELDS = (
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


@bp.get("/daftar-tunggu/baru")
@limits.captcha_creation
def join_form():
    """The booking's form for joining a full day's (or slot's) waitlist."""
    return _join_page(request.args)


@bp.post("/daftar-tunggu/baru")
@limits.booking
def join():
    """Join, then the entry's page; or the form again saying what went wrong."""
    form = request.form
    if form.get("action") == "refresh":  # a new captcha image, nothing sent
        return _join_page(form)
    body = {name: form.get(name, "").strip() for name in _JOIN_FIELDS}
    if not body["slot"]:
        body["slot"] = None
    if form.get("channel"):  # offered only while WhatsApp is (TWILIO_WHATSAPP_FROM)
        body["channel"] = form["channel"].strip()
    try:
        entry = waitlisting.join(body, form.get("branch_id", ""))
    except CaptchaFailedError:
        return _join_page(form, fields={"captcha_answer": [error_text("captcha_failed")]}, status=403)
    except ValidationFailedError as error:
        return _join_page(form, fields=field_texts(error.fields), summary=error_text(error.code), status=422)
    except DomainError as error:
        return _join_page(form, summary=error_text(error.code), status=STATUS_OF_CODE.get(error.code, 409))
    return redirect(url_for("waitlist_page.entry", waitlist_id=entry.waitlist_id), 303)


@bp.get("/daftar-tunggu/<waitlist_id>")
@limits.read
def entry(waitlist_id: str):
    """Where the entry stands: its place in line, or the place offered and until when."""
    return _entry_page(services().waitlist.find(waitlist_id))


@bp.post("/daftar-tunggu/<waitlist_id>/verifikasi")
@limits.lookup
@limits.failed_lookup
def verify(waitlist_id: str):
    """Put the entry in line with the code sent to its phone; the entry's page either way."""
    waitlist = services().waitlist
    typed = "".join(request.form.get("otp", "").split())[:32]
    try:
        entry = waitlist.verify(waitlist_id, request.form.get("nik", "")[:32], typed, services().clock())
    except DomainError as error:
        return _refused(waitlist_id, error)
    return _entry_page(entry)


@bp.post("/daftar-tunggu/<waitlist_id>/kirim-ulang")
@limits.lookup
@limits.failed_lookup
def resend(waitlist_id: str):
    """A new code to the entry's phone; the entry's page, saying it went (or why not)."""
    try:
        entry = services().waitlist.resend_code(waitlist_id, request.form.get("nik", "")[:32])
    except ResendLimitError as error:
        page = _refused(waitlist_id, error)
        page.headers.update(domain_error_headers(error))
        return page
    except DomainError as error:
        return _refused(waitlist_id, error)
    return _entry_page(entry, notice=_("Kode baru sudah dikirim. Kode sebelumnya tidak berlaku lagi."))


@bp.post("/daftar-tunggu/<waitlist_id>/terima")
@limits.lookup
@limits.failed_lookup
def accept(waitlist_id: str):
    """Accept the place offered: the booking's confirmation."""
    waitlist = services().waitlist
    try:
        booking = waitlist.accept(waitlist_id, request.form.get("nik", "")[:32], services().clock())
    except DomainError as error:
        return _refused(waitlist_id, error)
    session[LAST_BOOKING] = [booking.branch_id, booking.code]
    return redirect(url_for("participant.confirmation"), 303)


@bp.post("/daftar-tunggu/<waitlist_id>/keluar")
@limits.lookup
@limits.failed_lookup
def leave(waitlist_id: str):
    """Leave the waitlist (an offer held goes to the next)."""
    waitlist = services().waitlist
    try:
        entry = waitlist.leave(waitlist_id, request.form.get("nik", "")[:32], services().clock())
    except DomainError as error:
        return _refused(waitlist_id, error)
    return _entry_page(entry)


def _refused(waitlist_id: str, error: DomainError):
    """The entry's page again, saying why the step was refused (a wrong NIK: not found)."""
    entry = services().waitlist.find(waitlist_id)
    return _entry_page(entry, summary=error_text(error.code), status=STATUS_OF_CODE.get(error.code, 409))


def _entry_page(entry, summary: str | None = None, status: int = 200, notice: str | None = None):
    office = catalog.get_branch(services().redis, entry.branch_id)
    slot = None  # the slot waited for, or offered; None: any slot of the day
    if entry.slot is not None:
        settings = schedules.load_settings(services().redis, office.id)
        slot = schedules.find_slot(settings, entry.date, entry.slot)
    offer_by = None  # the offer's deadline, or the phone's code's while pending
    if entry.status in ("offered", "pending") and entry.offer_by is not None:
        offer_by = entry.offer_by.astimezone(ZoneInfo(office.timezone))
    return render(
        "participant/waitlist.html",
        status=status,
        personal=True,
        entry=entry,
        slot=slot,
        branch=office,
        service=catalog.service_at(services().redis, office.id, entry.service_id),
        offer_by=offer_by,
        seconds_left=services().waitlist.seconds_left(entry) if offer_by else 0,
        summary=summary,
        notice=notice,
    )


def _join_page(values, fields: dict | None = None, summary: str | None = None, status: int = 200):
    """The join form with ``values`` kept, a fresh captcha."""
    redis = services().redis
    office = catalog.get_branch(redis, values.get("branch_id", ""))
    service = catalog.bookable_service(redis, office, values.get("service_id", ""))
    day = chosen_date(values.get("date", ""))
    slot = None
    if values.get("slot"):
        settings = schedules.load_settings(redis, office.id)
        slot = schedules.find_slot(settings, day, chosen_slot(values["slot"]))
    return render(
        "participant/waitlist_join.html",
        status=status,
        personal=True,
        branch=office,
        service=service,
        day=day,
        slot=slot,
        values=values,
        errors=fields or {},
        summary=summary,
        captcha=services().captcha.create(),
        verifies_phone=services().reservations.holds_places,
        offers_whatsapp=web_booking.whatsapp_offered(),
    )
