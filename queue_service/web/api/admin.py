"""The admin API (SPEC §3 "Admin"), for scripts with an admin's API token. Views stay thin:
``authz`` decides who may, ``domain.tuning`` changes and audits."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, request

from queue_service.domain import (
    audit,
    calendar,
    catalog,
    hoarding,
    nik_release,
    reports,
    schedules,
    staff_cancellation,
    tuning,
)
from queue_service.domain.authz import Action, require
from queue_service.domain.errors import NotFoundError
from queue_service.domain.privacy import mask_nik, mask_phone
from queue_service.domain.reservations import Booking
from queue_service.metrics import count_bulk_cancellation
from queue_service.web.api import admin_auth
from queue_service.web.downloads import csv_download
from queue_service.web.extensions import services
from queue_service.web.requests import json_object, load
from queue_service.web.schemas import admin as admin_schemas
from queue_service.web.schemas import base as schemas

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")
bp.before_request(admin_auth.authenticate)
_account = admin_auth.account
_actor = admin_auth.actor

_PATH = schemas.PathSchema(partial=True)


def _day(text: str) -> dt.date:
    """The date in the path, spelled as the OpenAPI document says (422 otherwise)."""
    return load(_PATH, {"date": text})["date"]


@bp.get("/branches/<branch_id>/settings")
def show_settings(branch_id: str):
    """The branch's whole settings."""
    require(_account(), Action.READ_BRANCH, branch_id)
    return admin_schemas.BranchSettingsSchema().dump(
        tuning.settings_document(services().tuning.settings(branch_id))
    )


@bp.put("/branches/<branch_id>/settings")
def update_settings(branch_id: str):
    """Change any subset of the settings; answers the whole. A ``waiting_room`` naming some of
    its fields only is merged into the current one."""
    require(_account(), Action.TUNE_BRANCH, branch_id)
    changes = load(admin_schemas.BranchSettingsSchema(partial=True), json_object())
    settings = services().tuning.update_settings(branch_id, changes, _actor(), services().clock())
    return admin_schemas.BranchSettingsSchema().dump(tuning.settings_document(settings))


@bp.post("/branches/<branch_id>/settings/impact")
def settings_impact(branch_id: str):
    """What a settings change would do to existing bookings, before it is made."""
    require(_account(), Action.TUNE_BRANCH, branch_id)
    changes = load(admin_schemas.BranchSettingsSchema(partial=True), json_object())
    branch = catalog.get_branch(services().redis, branch_id)
    today = schedules.local_now(services().clock(), branch.timezone).date()
    return {
        "days": [
            {
                "date": i.date.isoformat(),
                "bookings": i.bookings,
                "outside_hours": i.outside_hours,
                "over_quota": i.over_quota,
            }
            for i in services().tuning.impact(branch_id, changes, today)
        ]
    }


@bp.get("/branches/<branch_id>/waiting-room")
def show_waiting_room(branch_id: str):
    """The branch's waiting room now: open or when the next opens, its figures and rate."""
    require(_account(), Action.READ_BRANCH, branch_id)
    return _room_view(branch_id)


@bp.put("/branches/<branch_id>/waiting-room")
def change_waiting_room(branch_id: str):
    """Change the open room's rate, or pause or resume its admission (audited with before and
    after); who was let in stays in. 404 when no room is open."""
    require(_account(), Action.TUNE_BRANCH, branch_id)
    change = load(admin_schemas.RoomChangeSchema(), json_object())
    rooms, now = services().waiting_rooms, services().clock()
    catalog.get_branch(services().redis, branch_id)  # 404 for an unknown branch
    rooms.change_rate(
        rooms.room_of(branch_id, now), change.get("admit_per_minute"), change.get("paused"), _actor(), now
    )
    return _room_view(branch_id)


def _room_view(branch_id: str) -> dict:
    view = services().waiting_rooms.view(branch_id, services().clock())
    return admin_schemas.WaitingRoomViewSchema().dump(
        {
            "branch_id": branch_id,
            "enabled": view.settings.enabled,
            "open": _room_times(view.room),
            "next": _room_times(view.next),
            "unplaced": view.unplaced,
            "waiting": view.waiting,
            "admitted": view.admitted,
            "admit_per_minute": view.admit_per_minute,
            "paused": view.paused,
            "seed": view.seed,
            "drawn": view.drawn,
        }
    )


def _room_times(room) -> dict | None:
    if room is None:
        return None
    return {
        "id": room.id,
        "opens_at": room.opens_at.isoformat(),
        "release_at": room.release_at.isoformat(),
        "closes_at": room.closes_at.isoformat(),
    }


@bp.put("/branches/<branch_id>/dates/<date>")
def set_date(branch_id: str, date: str):
    """Close a date or give it its own quota (its bookings are kept)."""
    require(_account(), Action.TUNE_BRANCH, branch_id)
    day = _day(date)
    override = schedules.DateOverride(**load(admin_schemas.DateOverrideSchema(), json_object()))
    services().tuning.set_date(branch_id, day, override, _actor(), services().clock())
    return admin_schemas.DateOverrideSchema().dump(override)


@bp.delete("/branches/<branch_id>/dates/<date>")
def clear_date(branch_id: str, date: str):
    """Remove a date's closure or quota."""
    require(_account(), Action.TUNE_BRANCH, branch_id)
    services().tuning.clear_date(branch_id, _day(date), _actor(), services().clock())
    return "", 204


@bp.get("/branches/<branch_id>/bookings")
def list_bookings(branch_id: str):
    """A day's bookings, NIK and phone masked; ``format=csv`` for a file, with ``full=1`` and a
    ``reason`` the personal data unmasked (audited with the reason)."""
    require(_account(), Action.READ_BOOKINGS, branch_id)
    query = load(admin_schemas.BookingsQuerySchema(), request.args.to_dict())
    services().tuning.settings(branch_id)  # 404 for an unknown branch
    bookings = services().tuning.bookings(branch_id, query["date"])
    if query["format"] == "csv":
        text = services().tuning.export_bookings(
            branch_id, query["date"], query["full"], _actor(), services().clock(), reason=query.get("reason")
        )
        return csv_download(text, f"bookings-{branch_id}-{query['date'].isoformat()}.csv")
    return admin_schemas.AdminBookingsSchema().dump({"bookings": [_booking_view(b) for b in bookings]})


def _booking_view(b: Booking) -> dict:
    """A booking as an admin's list shows it: NIK and phone masked."""
    return {
        "code": b.code,
        "queue_number": b.queue_number,
        "status": b.status,
        "service_id": b.service_id,
        "slot": {"start": f"{b.slot_start:%H:%M}", "end": f"{b.slot_end:%H:%M}"},
        "name": b.name,
        "nik": mask_nik(b.nik),
        "phone": mask_phone(b.phone),
        "registry": b.registry,
    }


@bp.get("/branches/<branch_id>/hoarding")
def hoarding_signals(branch_id: str):
    """What looks like hoarding at the branch on a day: phones and client addresses behind
    several NIKs, the busiest minutes against the branch's usual, holds pending and expired
    (``domain.hoarding``); NIK and phone masked."""
    require(_account(), Action.READ_BOOKINGS, branch_id)
    day = load(admin_schemas.DayQuerySchema(), request.args.to_dict())["date"]
    found = services().hoarding.day(branch_id, day, services().clock())
    timezone = catalog.get_branch(services().redis, branch_id).timezone

    def listed(bookings) -> list[dict]:
        return [_hoarding_booking(b, timezone) for b in bookings]

    def groups(found_groups) -> list[dict]:
        return [
            {"label": g.label, "niks": g.niks, "active": g.active, "bookings": listed(g.bookings)}
            for g in found_groups
        ]

    return admin_schemas.HoardingSchema().dump(
        {
            "branch_id": branch_id,
            "date": day.isoformat(),
            "total": found.total,
            "statuses": found.statuses,
            "thresholds": vars(found.thresholds),
            "phones": groups(found.phones),
            "addresses": groups(found.addresses),
            "rate": {
                "peak": found.rate.peak,
                "usual": found.rate.usual,
                "threshold": found.rate.threshold,
                "flagged": found.rate.flagged,
                "minutes": groups(found.rate.minutes),
            },
            "pending": listed(found.pending),
            "expired": listed(found.expired),
        }
    )


def _hoarding_booking(b: Booking, timezone: str) -> dict:
    made = dt.datetime.fromtimestamp(b.created_ms / 1000, ZoneInfo(timezone))
    return {**_booking_view(b), "address": b.address, "created_at": made.isoformat(timespec="seconds")}


@bp.post("/bookings/bulk-cancel")
def bulk_cancel():
    """Cancel a selection of bookings for one reason, each as the single cancel does (audited,
    the cancellation SMS to each); what could not be cancelled is said per booking. Refused
    whole (403) when one of them is of a branch the caller may not cancel at."""
    data = load(admin_schemas.BulkCancelRequestSchema(), json_object())
    outcomes = hoarding.cancel_selection(
        services().reservations, _account(), data["codes"], data["reason"], _actor(), services().clock()
    )
    count_bulk_cancellation(o.outcome for o in outcomes)
    return admin_schemas.BulkCancelSchema().dump(
        {
            "cancelled": sum(1 for o in outcomes if o.cancelled),
            "results": [
                {"code": o.code, "outcome": o.outcome, "status": o.booking.status if o.booking else None}
                for o in outcomes
            ],
        }
    )


@bp.post("/bookings/<code>/cancel")
def cancel_booking(code: str):
    """Cancel one booking of a branch the caller works for, with a reason (audited; the
    participant gets the cancellation SMS)."""
    reason = load(admin_schemas.StaffCancelRequestSchema(), json_object())["reason"]
    booking = staff_cancellation.cancel(
        services().reservations, _account(), code, reason, _actor(), services().clock()
    )
    return {"code": booking.code, "status": booking.status}


@bp.post("/nik-releases")
def release_nik():
    """At the branch where a NIK's owner stands, KTP seen: cancel the NIK's coming bookings
    made with another phone, at any branch (audited each, the SMS to the phone that booked);
    the owner's own are kept. ``branch_id`` only from an account of no or several branches."""
    data = load(admin_schemas.NikReleaseRequestSchema(), json_object())
    release = nik_release.release_nik(
        services().reservations,
        _account(),
        data.get("branch_id"),
        data["nik"],
        data["phone"],
        data["reason"],
        _actor(),
        services().clock(),
    )
    return admin_schemas.NikReleaseSchema().dump(
        {
            "released": [_released(b) for b in release.released],
            "kept": [_released(b) for b in release.kept],
        }
    )


def _released(booking) -> dict:
    return {"code": booking.code, "branch_id": booking.branch_id, "date": booking.date.isoformat()}


@bp.get("/branches/<branch_id>/audit")
def branch_audit(branch_id: str):
    """The branch's audit entries, newest first, filtered by actor and action; or CSV."""
    require(_account(), Action.READ_BRANCH, branch_id)
    services().tuning.settings(branch_id)  # 404 for an unknown branch
    return _audit(branch_id, f"audit-{branch_id}.csv")


@bp.get("/audit")
def national_audit():
    """National closures, accounts and sign-ins (national admins)."""
    require(_account(), Action.MANAGE_ACCOUNTS)
    return _audit(None, "audit-national.csv")


@bp.get("/branches/<branch_id>/report")
def branch_report(branch_id: str):
    """Day by day bookings against quota, cancellations, arrivals; the busiest slots."""
    require(_account(), Action.READ_BRANCH, branch_id)
    query = load(admin_schemas.ReportQuerySchema(), request.args.to_dict())
    now = services().clock()
    today = schedules.local_now(now, catalog.get_branch(services().redis, branch_id).timezone).date()
    report = reports.branch_report(
        services().redis,
        branch_id,
        query.get("start", today),
        query["days"],
        today,
        services().reservations.collective_leave_closed,
    )
    return {
        "branch_id": branch_id,
        "days": [
            {
                "date": f.date.isoformat(),
                "open": f.open,
                "reason": f.reason,
                "quota": f.quota,
                "booked": f.booked,
                "cancelled": f.cancelled,
                "arrived": f.arrived,
                "no_show": f.no_show,
            }
            for f in report.days
        ],
        "busiest_slots": [{"slot": slot, "bookings": count} for slot, count in report.busiest_slots],
    }


def _audit(branch_id: str | None, filename: str):
    """A page of entries older than ``before`` (``limit`` of them), or that page as CSV."""
    query = load(admin_schemas.AuditQuerySchema(), request.args.to_dict())
    found = audit.page(
        services().redis,
        branch_id,
        actor=query.get("actor"),
        action=query.get("action"),
        before=query.get("before"),
        limit=query["limit"],
    )
    if query["format"] == "csv":
        return csv_download(audit.to_csv(found.entries), filename)
    return {
        "entries": [{name: getattr(entry, name) for name in audit.FIELDS} for entry in found.entries],
        "older": found.older,
    }


@bp.post("/kiosks")
def create_kiosk():
    """Register a kiosk of a branch; its token is shown once."""
    data = load(admin_schemas.NewKioskSchema(), json_object())
    require(_account(), Action.TUNE_BRANCH, data["branch_id"])
    kiosk, token = services().kiosks.create(data["branch_id"], data["name"], services().clock(), _actor())
    return {"kiosk_id": kiosk.id, "token": token}, 201


@bp.get("/branches/<branch_id>/kiosks")
def list_kiosks(branch_id: str):
    """The branch's kiosks (revoked ones with the time)."""
    require(_account(), Action.READ_BRANCH, branch_id)
    catalog.get_branch(services().redis, branch_id)  # 404 for an unknown branch, as elsewhere
    return {"kiosks": [vars(k) for k in services().kiosks.of_branch(branch_id)]}


@bp.delete("/kiosks/<kiosk_id>")
def revoke_kiosk(kiosk_id: str):
    """Revoke a kiosk: refused from its next request on."""
    kiosk = services().kiosks.get(kiosk_id)
    if kiosk is None:
        raise NotFoundError("kiosk")
    require(_account(), Action.TUNE_BRANCH, kiosk.branch_id)
    services().kiosks.revoke(kiosk_id, services().clock(), _actor())
    return "", 204


@bp.put("/closures/<date>")
def close_nationally(date: str):
    """Close every branch on a date (national admins)."""
    require(_account(), Action.CLOSE_NATIONALLY)
    day = _day(date)
    note = load(admin_schemas.NationalClosureSchema(), json_object())["note"]
    calendar.close_nationally(services().redis, day, note, _actor(), services().clock())
    return {"date": day.isoformat(), "note": note}


@bp.delete("/closures/<date>")
def reopen_nationally(date: str):
    """Lift a national closure (national admins)."""
    require(_account(), Action.CLOSE_NATIONALLY)
    calendar.reopen_nationally(services().redis, _day(date), _actor(), services().clock())
    return "", 204
