"""The waiting room's JSON API (SPEC §6 "Fair opening"): join a branch's room, ask where a
ticket stands. Views stay thin; the room is ``domain.waiting_room``."""

from __future__ import annotations

from flask import Blueprint, request

from queue_service.web import limits
from queue_service.web.extensions import services
from queue_service.web.requests import json_object, load
from queue_service.web.schemas import public as schemas

bp = Blueprint("waiting_room", __name__, url_prefix="/api/v1")

_JOIN_REQUEST = schemas.JoinRoomRequestSchema()
_STANDING = schemas.WaitingRoomSchema()


@bp.post("/branches/<branch_id>/waiting-room")
@limits.read
def join_room(branch_id: str):
    """A ticket in the branch's room (the caller's own back, if it names it), or
    ``not_needed`` when no room is open."""
    body = load(_JOIN_REQUEST, json_object()) if request.get_data() else {}
    now = services().clock()
    rooms = services().waiting_rooms
    room = rooms.room_of(branch_id, now)
    standing = rooms.join(room, limits.client_address(), body.get("ticket"), now)
    return _STANDING.dump(standing), 201


@bp.get("/waiting-room/<ticket>")
@limits.read
def show_ticket(ticket: str):
    """Where a ticket stands now, with its pass once admitted."""
    return _STANDING.dump(services().waiting_rooms.status(ticket, services().clock()))
