"""The public queue for waiting-room displays (SPEC §3 "Public, for displays"): queue
numbers only, no personal data, no authentication."""

from __future__ import annotations

from flask import Blueprint

from queue_service.web import limits
from queue_service.web.extensions import services
from queue_service.web.schemas import public as schemas

bp = Blueprint("display_api", __name__, url_prefix="/api/v1")


@bp.get("/branches/<branch_id>/queue")
@limits.read
def show_queue(branch_id: str):
    """Now serving per counter, who waits (with an estimated wait) and the newest calls to
    announce: queue numbers only, no personal data."""
    view = services().live_queue.view(branch_id, services().clock())
    return schemas.QueueSchema().dump(
        {
            "branch_id": view.branch_id,
            "now_serving": [
                {"counter": counter, "queue_number": number} for counter, number in view.now_serving
            ],
            "waiting": view.waiting,
            "average_service_seconds": view.average_service_seconds,
            "announcements": view.announcements,
        }
    )
