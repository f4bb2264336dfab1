"""Operations endpoints: liveness, readiness and metrics."""

from __future__ import annotations

import concurrent.futures
import hmac
import logging

from flask import Blueprint, Flask, Response, current_app, request

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
    hoarding view's signals per branch. With ``METRICS_PORT`` set, there only (and behind
    ``METRICS_TOKEN`` if that is set too); else behind ``METRICS_TOKEN`` when it is set, and
    without one, open in development and not there in production."""
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
    on_own_port = came_on_metrics_port()
    if current_app.config["METRICS_PORT"] is not None and not on_own_port:
        return "not_found"
    expected = current_app.config.get("METRICS_TOKEN")
    if expected:
        given = bearer_token() or ""
        return None if hmac.compare_digest(given.encode(), expected.encode()) else "unauthorized"
    return "not_found" if current_app.config["APP_ENV"] == "production" and not on_own_port else None


def came_on_metrics_port() -> bool:
    """Whether this request came in on ``METRICS_PORT``'s listener, as the socket gunicorn
    took it on says (a client cannot forge that; a ``Host`` header it can). Never outside
    ``queue-service serve``."""
    port = current_app.config["METRICS_PORT"]
    connection = request.environ.get("gunicorn.socket")
    if port is None or connection is None:
        return False
    try:
        local = connection.getsockname()
    except OSError:
        return False
    return isinstance(local, tuple) and local[1] == port


def keep_metrics_port_to_metrics(app: Flask) -> None:
    """Answer 404 to everything but ``/metrics`` on ``METRICS_PORT``: it is opened to a
    scraper, past the proxy that limits and names the public's requests, so nothing else may
    be reached through it."""

    @app.before_request
    def _nothing_but_metrics():
        if request.path != "/metrics" and came_on_metrics_port():
            return error_response("not_found")
        return None
