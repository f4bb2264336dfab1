"""Counter staff's calls and counters (SPEC §3 "Counter staff").

Staff authenticate with ``Authorization: Bearer <staff API token>``; the branch is the
account's (counter staff have exactly one; an admin of several names it as ``branch_id``).
A client that may re-send a step after a lost reply sends an ``Idempotency-Key`` header: the
same key answers as the first time (for a call: the same participant).
"""

from __future__ import annotations

from flask import Blueprint, request

from queue_service.domain.accounts import Account
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, require
from queue_service.domain.errors import NotFoundError, ValidationFailedError
from queue_service.domain.live_queue import Step
from queue_service.web.extensions import services
from queue_service.web.limits import client_address
from queue_service.web.requests import bearer_token, idempotency_key, json_object, load
from queue_service.web.schemas import counter as schemas
from queue_service.web.schemas.base import PathSchema

bp = Blueprint("counters_api", __name__, url_prefix="/api/v1")


def _account() -> Account:
    return services().accounts.authenticate(bearer_token(), services().clock())


def _body(schema) -> dict:
    """The JSON body through ``schema``; steps other than a call may send none."""
    return load(schema, json_object() if request.content_length or request.mimetype else {})


def _branch(account: Account, data: dict, action: Action = Action.OPERATE_QUEUE) -> str:
    """The branch this account acts on, checked by ``authz`` (403 for another's)."""
    branch_id = data.get("branch_id")
    if branch_id is None:
        if len(account.branches) != 1:
            raise ValidationFailedError({"branch_id": ["required"]})
        branch_id = account.branches[0]
    require(account, action, branch_id)
    return branch_id


def _actor(account: Account) -> Actor:
    return Actor(account.username, account.role, client_address())


_PATH = PathSchema(partial=True)


def _counter(name: str) -> str:
    """The counter named in the path, checked as the OpenAPI document describes it (422)."""
    return load(_PATH, {"counter": name})["counter"]


def _step(step: Step) -> dict:
    return schemas.StepSchema().dump(step)


@bp.post("/counter/calls")
def call_next():
    """Call the next checked-in participant for the counter's services (404 when none waits)."""
    account = _account()
    data = load(schemas.CallRequestSchema(), json_object())
    branch_id = _branch(account, data)
    call = services().live_queue.call_next(
        branch_id, data["counter"], services().clock(), data.get("services"), idempotency_key()
    )
    return schemas.CallSchema().dump(call)


@bp.post("/counter/calls/<queue_number>/recall", defaults={"step": "recall"})
@bp.post("/counter/calls/<queue_number>/served", defaults={"step": "served"})
@bp.post("/counter/calls/<queue_number>/no_show", defaults={"step": "no_show"})
def finish(queue_number: str, step: str):
    """Recall a called participant, or mark them served or no-show."""
    account = _account()
    branch_id = _branch(account, _body(schemas.StepRequestSchema()))
    live = services().live_queue
    do = {"recall": live.recall, "served": live.mark_served, "no_show": live.mark_no_show}[step]
    return _step(do(branch_id, queue_number, services().clock(), idempotency_key()))


@bp.post("/counter/participants/<queue_number>/transfer")
def transfer(queue_number: str):
    """Move a participant to another service's line, keeping their place by arrival."""
    account = _account()
    data = load(schemas.TransferRequestSchema(), json_object())
    branch_id = _branch(account, data)
    return _step(
        services().live_queue.transfer(
            branch_id, queue_number, data["service_id"], services().clock(), idempotency_key()
        )
    )


@bp.post("/counter/participants/<queue_number>/priority")
def mark_priority(queue_number: str):
    """Mark a checked-in participant priority (``true``) or not (``false``)."""
    account = _account()
    data = load(schemas.PriorityRequestSchema(), json_object())
    branch_id = _branch(account, data)
    return _step(
        services().live_queue.mark_priority(
            branch_id, queue_number, services().clock(), data["priority"], idempotency_key()
        )
    )


@bp.post("/counter/counters/<counter>/pause", defaults={"step": "pause"})
@bp.post("/counter/counters/<counter>/resume", defaults={"step": "resume"})
def pause(counter: str, step: str):
    """Pause a counter, or resume it (its next call resumes it too)."""
    account = _account()
    branch_id = _branch(account, _body(schemas.StepRequestSchema()))
    live = services().live_queue
    (live.pause if step == "pause" else live.resume)(branch_id, _counter(counter))
    return {"counter": counter, "paused": step == "pause"}


@bp.get("/counter/counters")
def list_counters():
    """The branch's counters: their services and whether paused."""
    account = _account()
    branch_id = _branch(account, load(schemas.StepRequestSchema(), request.args.to_dict()))
    return schemas.CountersSchema().dump(
        {"branch_id": branch_id, "counters": services().live_queue.counters(branch_id)}
    )


@bp.put("/counter/counters/<counter>")
def set_counter(counter: str):
    """Create or change a counter and its services (branch admins; audited)."""
    account = _account()
    data = load(schemas.CounterRequestSchema(), json_object())
    branch_id = _branch(account, data, Action.TUNE_BRANCH)
    done = services().live_queue.set_counter(
        branch_id, _counter(counter), data.get("services"), _actor(account), services().clock()
    )
    return schemas.CounterSchema().dump(done)


@bp.delete("/counter/counters/<counter>")
def remove_counter(counter: str):
    """Remove a counter (branch admins; audited)."""
    account = _account()
    branch_id = _branch(
        account, load(schemas.StepRequestSchema(), request.args.to_dict()), Action.TUNE_BRANCH
    )
    if not services().live_queue.remove_counter(
        branch_id, _counter(counter), _actor(account), services().clock()
    ):
        raise NotFoundError("counter")
    return "", 204
