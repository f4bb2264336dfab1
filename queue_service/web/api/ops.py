"""Operations endpoints: liveness, readiness and metrics."""

from __future__ import annotations

import concurrent.futures
import hmac
import logging

from flask import Blueprint, Response, current_app

from queue_service import metrics
from queue_service.domain import operations
from queue_service.web.errors import error_response
from queue_service.web.extensions import services
from queue_service.web.metrics import BuildInfoCollector, HoardingCollector, JobQueueCollector
from queue_service.web.requests import bearer_token

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)

# Both stores are asked at once, so a hung Redis (it accepts the connection and never
# answers) costs /readyz one timeout, not one per store: a load balancer's check must
# finish before its own timeout to mean anything.
_probes = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """200 only when the data store and the job queue both answer, within one timeout; else
    503 with ``X-Unready`` naming the store(s) that did not (``data_store``, ``job_queue``)."""
    probes = {
        name: _probes.submit(operations.answers, client)
        for name, client in (("data_store", services().redis), ("job_queue", services().queue_redis))
    }
    concurrent.futures.wait(probes.values(), timeout=current_app.config["REDIS_SOCKET_TIMEOUT"])
    checks = {name: "ok" if probe.done() and probe.result() else "down" for name, probe in probes.items()}
    failing = [name for name, state in checks.items() if state != "ok"]
    if not failing:
        return {"status": "ok", "checks": checks}
    # The body is the SPEC's refusal, the same for every 503; the header and the log line
    # tell the operator which store it is.
    log.warning("not ready: %s down", ", ".join(failing))
    response = error_response("unavailable")
    response.headers["X-Unready"] = ",".join(failing)
    return response


@bp.get("/metrics")
def prometheus_metrics():
    """Prometheus metrics: every web process's instruments, the job queue's figures, the
    hoarding view's signals per branch. Behind ``METRICS_TOKEN`` when it is set; without
    one, open in development and not there in production."""
    refusal = _metrics_refusal()
    if refusal:
        return error_response(refusal)
    body, content_type = metrics.exposition(
        [
            BuildInfoCollector(),
            JobQueueCollector(services().queue_redis),
            HoardingCollector(services().hoarding, services().clock()),
        ]
    )
    return Response(body, content_type=content_type)


def _metrics_refusal() -> str | None:
    """Why this scrape is refused (an error code), or None."""
    expected = current_app.config.get("METRICS_TOKEN")
    if expected:
        given = bearer_token() or ""
        return None if hmac.compare_digest(given.encode(), expected.encode()) else "unauthorized"
    return "not_found" if current_app.config["APP_ENV"] == "production" else None
