"""The admin API's accounts (SPEC §6 "Catalog and accounts"): create, list, change, disable,
delete, reset a password, unlock; each account's API tokens and sessions. National admins
manage every account, branch admins their branches' counter staff (``authz``); every change
is the domain's (``accounts``, ``account_changes``), audited there."""

from __future__ import annotations

from flask import Blueprint, current_app

from queue_service.domain import api_tokens
from queue_service.domain.account_changes import AccountChanges
from queue_service.domain.accounts import Account, AccountRejectedError
from queue_service.domain.authz import Action, may_manage, may_manage_accounts, require_manage
from queue_service.domain.authz import require_token_minting as require_minting
from queue_service.domain.errors import ForbiddenError, NotFoundError
from queue_service.domain.staff_sessions import StaffSessions
from queue_service.web.api import admin_auth
from queue_service.web.api.admin_auth import account, actor
from queue_service.web.errors import error_response
from queue_service.web.extensions import services
from queue_service.web.requests import json_object, load
from queue_service.web.schemas import accounts as schemas

bp = Blueprint("accounts_admin_api", __name__, url_prefix="/api/v1/admin")
bp.before_request(admin_auth.authenticate)


@bp.errorhandler(AccountRejectedError)
def _rejected(rejected: AccountRejectedError):
    """A username, role, branches or password the domain refuses: 422 naming the field."""
    return error_response("validation_failed", fields={rejected.field: [rejected.key]})


def _changes() -> AccountChanges:
    return AccountChanges(services().accounts, services().sign_in)


def _sessions() -> StaffSessions:
    return StaffSessions(services().redis, current_app.config["ADMIN_SESSION_IDLE_MINUTES"] * 60)


@bp.get("/accounts")
def list_accounts():
    """The accounts this admin manages: all for a national admin; a branch admin's staff."""
    if not may_manage_accounts(account()):
        raise ForbiddenError(Action.MANAGE_STAFF.value)
    managed = [a for a in services().accounts.list() if may_manage(account(), a.role, a.branches)]
    return schemas.AccountsSchema().dump({"accounts": [account_view(a) for a in managed]})


@bp.post("/accounts")
def create_account():
    """Create an account (national admins: any; branch admins: staff of their branches)."""
    data = load(schemas.NewAccountSchema(), json_object())
    branches = tuple(data["branches"])
    require_manage(account(), data["role"], branches)
    made, token = services().accounts.create(
        data["username"],
        data["role"],
        branches,
        password=data["password"],
        now=services().clock(),
        actor=actor(),
    )
    return schemas.CreatedAccountSchema().dump({**account_view(made), "token": token}), 201


@bp.patch("/accounts/<username>")
def change_account(username: str):
    """Disable or enable an account, or change its role or branches (any subset)."""
    data = load(schemas.AccountChangeSchema(), json_object())
    changed = _changes().change(
        account(),
        username,
        actor(),
        services().clock(),
        disabled=data.get("disabled"),
        role=data.get("role"),
        branches=tuple(data["branches"]) if "branches" in data else None,
    )
    return schemas.AccountViewSchema().dump(account_view(changed))


@bp.delete("/accounts/<username>")
def delete_account(username: str):
    """Delete an account with its tokens and sessions; its audit entries stay."""
    _changes().delete(account(), username, actor(), services().clock())
    return "", 204


@bp.post("/accounts/<username>/password-reset")
def reset_password(username: str):
    """A temporary password (shown once), to be changed at the account's next sign-in."""
    temporary = _changes().reset_password(account(), username, actor(), services().clock())
    return schemas.TemporaryPasswordSchema().dump({"temporary_password": temporary}), 201


@bp.post("/accounts/<username>/unlock")
def unlock_account(username: str):
    """Clear the account's failed sign-ins from every address."""
    _changes().unlock(account(), username, actor(), services().clock())
    return "", 204


@bp.get("/accounts/<username>/tokens")
def list_tokens(username: str):
    """An account's API tokens by name (never the tokens), with expiry and last use."""
    _managed(username)
    tokens = services().accounts.tokens(username, services().clock())
    return schemas.TokensSchema().dump({"tokens": [vars(token) for token in tokens]})


@bp.post("/accounts/<username>/tokens")
def add_token(username: str):
    """Another API token for an account (shown once): admins only, for themselves or the
    accounts they manage; it may expire after some days."""
    require_minting(account(), _managed(username))
    data = load(schemas.NewTokenSchema(), json_object())
    now, days = services().clock(), data["expires_in_days"]
    token = services().accounts.add_token(username, data["name"], now, actor(), days)
    expires = api_tokens.expiry(now, days)
    return schemas.CreatedTokenSchema().dump(
        {
            "name": data["name"],
            "token": token,
            "expires_at": expires.isoformat(timespec="seconds") if expires else None,
        }
    ), 201


@bp.delete("/accounts/<username>/tokens/<token_id>")
def revoke_token(username: str, token_id: str):
    """Revoke a token: refused from the next request on."""
    _managed(username)
    if not services().accounts.revoke_token(username, token_id, actor(), services().clock()):
        raise NotFoundError("token")
    return "", 204


@bp.get("/accounts/<username>/sessions")
def list_sessions(username: str):
    """An account's console and counter sessions: started, last used, from where."""
    _managed(username)
    sessions = _sessions().of_account(username)
    return schemas.SessionsSchema().dump({"sessions": [vars(s) for s in sessions]})


@bp.delete("/accounts/<username>/sessions/<session_id>")
def end_session(username: str, session_id: str):
    """End one session of an account: its cookie is refused from the next request on."""
    _managed(username)
    if not _sessions().end_listed(username, session_id):
        raise NotFoundError("session")
    services().accounts.audit(
        actor(), "session_ended", username, {"id": session_id}, None, services().clock()
    )
    return "", 204


def _managed(username: str) -> Account:
    """The account ``username``, if the caller may handle it (its own, or one it manages)."""
    target = services().accounts.get(username)
    if target is None:
        raise NotFoundError("account")
    if target.username != account().username:
        require_manage(account(), target.role, target.branches)
    return target


def account_view(shown: Account) -> dict:
    """An account as the API shows it: never its password hash."""
    return {
        "username": shown.username,
        "role": shown.role,
        "branches": list(shown.branches),
        "password": shown.password_hash is not None,
        "disabled": shown.disabled,
        "must_change_password": shown.must_change_password,
        "created_at": shown.created_at,
    }
