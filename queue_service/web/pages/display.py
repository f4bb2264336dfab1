"""The waiting-room display at ``/display/<branch_id>``: public, full screen on a TV.

It shows who is called to each counter and who comes next (queue numbers only: nothing here
is personal data), the branch's name and local time. The page is rendered with the queue as
it is; ``display.js`` then polls the public queue API (``GET /api/v1/branches/<id>/queue``)
and announces each call it has not seen with a chime and a spoken sentence in Bahasa
Indonesia (``spoken_call.js``).
"""

from __future__ import annotations

from flask import Response

from queue_service.domain import catalog, schedules
from queue_service.domain.errors import NotFoundError
from queue_service.web.extensions import services
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.rendering import render

bp = make_page_blueprint("display", __name__)

# How many of the next numbers the screen lists (what a 720p screen holds at reading size).
NEXT_SHOWN = 8
# How often the page polls the queue, in milliseconds (it backs off on errors).
POLL_MS = 2000


@bp.get("/display/<branch_id>")
def board(branch_id: str) -> Response:
    """The display of a branch's live queue; a clear 404 page for an unknown branch."""
    redis = services().redis
    try:
        branch = catalog.get_branch(redis, branch_id)
    except NotFoundError:
        return render("display/not_found.html", status=404, branch_id=branch_id)
    view = services().live_queue.view(branch_id, services().clock())
    serving = dict(view.now_serving)
    # Every configured counter has its place, idle or not; a counter that is not configured
    # but has called someone (through the API) shows too.
    counters = [c.name for c in view.counters] + [
        name for name in serving if name not in {c.name for c in view.counters}
    ]
    now = schedules.local_now(services().clock(), branch.timezone)
    return render(
        "display/board.html",
        branch=branch,
        counters=counters,
        serving=serving,
        waiting=view.waiting[:NEXT_SHOWN],
        next_shown=NEXT_SHOWN,
        poll_ms=POLL_MS,
        last_announcement=view.announcements[-1].id if view.announcements else "",
        now=now,
        zone=schedules.timezone_label(branch.timezone),
    )
