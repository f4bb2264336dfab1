"""Operations endpoints: liveness and readiness."""

from __future__ import annotations

import redis
from flask import Blueprint

from queue_service.extensions import services
from queue_service.web.errors import error_response

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """200 only when the data store and the job queue both answer."""
    checks = {}
    for name, client in (("data_store", services().redis), ("job_queue", services().queue_redis)):
        try:
            checks[name] = "ok" if client.ping() else "down"
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            checks[name] = "down"
    if all(state == "ok" for state in checks.values()):
        return {"status": "ok", "checks": checks}
    return error_response("unavailable")
