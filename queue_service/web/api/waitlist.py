"""The waitlist's JSON API (SPEC §6 "WhatsApp and the waitlist"): join a full day's waitlist,
accept the place offered, leave. Views stay thin; the waitlist is ``domain.waitlist``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint

from queue_service.domain import catalog
from queue_service.domain.waitlist import Entry
from queue_service.web import limits, waitlisting
from queue_service.web.api.public import booking_answer
from queue_service.web.extensions import services
from queue_service.web.requests import json_object, load
from queue_service.web.schemas import public as public_schemas
from queue_service.web.schemas import waitlist as schemas

bp = Blueprint("waitlist", __name__, url_prefix="/api/v1")

_NIK = schemas.WaitlistNikSchema()
_VERIFY = public_schemas.VerifyRequestSchema()
_ENTRY = schemas.WaitlistEntrySchema()


@bp.post("/branches/<branch_id>/waitlist")
@limits.booking
def join_waitlist(branch_id: str):
    """Join the waitlist of a full day (or slot). The captcha is checked (and consumed) first."""
    return entry_answer(waitlisting.join(json_object(), branch_id)), 201


@bp.post("/waitlist/<waitlist_id>/verify")
@limits.lookup
@limits.failed_lookup
def verify_entry(waitlist_id: str):
    """Put an entry in line by the one-time code sent to its phone (``PHONE_VERIFICATION``)."""
    query = load(_VERIFY, json_object())
    entry = services().waitlist.verify(waitlist_id, query["nik"], query["otp"], services().clock())
    return entry_answer(entry)


@bp.post("/waitlist/<waitlist_id>/verify/resend")
@limits.lookup
@limits.failed_lookup
def resend_entry_code(waitlist_id: str):
    """A new one-time code to the entry's phone (the old one stops working): 202; as a
    booking's, one a minute and a few an entry (429 with ``Retry-After``)."""
    query = load(_NIK, json_object())
    return entry_answer(services().waitlist.resend_code(waitlist_id, query["nik"])), 202


@bp.post("/waitlist/<waitlist_id>/accept")
@limits.lookup
@limits.failed_lookup
def accept_offer(waitlist_id: str):
    """Accept the place offered: 201 the booking."""
    query = load(_NIK, json_object())
    return booking_answer(services().waitlist.accept(waitlist_id, query["nik"], services().clock())), 201


@bp.post("/waitlist/<waitlist_id>/leave")
@limits.lookup
@limits.failed_lookup
def leave_waitlist(waitlist_id: str):
    """Leave the waitlist (declining an offer held, which goes to the next)."""
    query = load(_NIK, json_object())
    return entry_answer(services().waitlist.leave(waitlist_id, query["nik"], services().clock()))


def entry_answer(entry: Entry) -> dict:
    """The entry as the API shows it; an offer with its deadline in its branch's offset."""
    answer = {"waitlist_id": entry.waitlist_id, "position": entry.position, "status": entry.status}
    if entry.status in ("offered", "pending") and entry.offer_by is not None:
        zone = ZoneInfo(catalog.get_branch(services().redis, entry.branch_id).timezone)
        deadline = entry.offer_by.astimezone(zone).isoformat(timespec="seconds")
        answer["offer_by" if entry.status == "offered" else "verify_by"] = deadline
    return _ENTRY.dump(answer)
