"""Accounts on the staff pages: every signed-in member of staff changes their own password
(console and counter page alike; after an admin's reset, the surface leads nowhere else until
it is done, see ``staff_auth.signed_in``), and admins manage the accounts they may
(``/admin/akun``): disable and enable, delete (after a confirmation), role and branches,
reset a password (the temporary one shown once, on the page), unlock; each account's API
tokens (made with an expiry, revoked) and sessions (ended). Every rule is the domain's
(``account_changes``, ``authz``); this module reads forms and renders pages. Every form
carries a CSRF token.
"""

from __future__ import annotations

from flask import Response, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _

from queue_service.domain import catalog
from queue_service.domain.account_changes import AccountChanges
from queue_service.domain.accounts import ROLES, Account, AccountRejectedError
from queue_service.domain.api_tokens import MAX_TOKEN_DAYS
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, may_manage, may_manage_accounts, require_token_minting
from queue_service.domain.errors import ForbiddenError
from queue_service.domain.sign_in import LockedOutError
from queue_service.domain.staff_sessions import StaffSessions
from queue_service.web.extensions import services
from queue_service.web.limits import client_address
from queue_service.web.pages import staff_auth
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.rendering import error_text, field_texts, render

bp = make_page_blueprint("accounts_console", __name__)

admin_signed_in = staff_auth.signed_in("admin", "admin.sign_in_form")
counter_signed_in = staff_auth.signed_in("counter", "counter.sign_in_form")


def _changes() -> AccountChanges:
    return AccountChanges(services().accounts, services().sign_in)


def _sessions() -> StaffSessions:
    return StaffSessions(services().redis, current_app.config["ADMIN_SESSION_IDLE_MINUTES"] * 60)


def _actor() -> Actor:
    return Actor(g.account.username, g.account.role, client_address())


def _page(template: str, status: int = 200, **context) -> Response:
    return render(template, status=status, personal=True, account=g.get("account"), **context)


@bp.route("/admin/kata-sandi", methods=["GET", "POST"])
@admin_signed_in
def admin_password():
    """Change one's own password on the console."""
    return _password_page(
        "admin", "admin/password.html", url_for("admin.home"), "accounts_console.admin_password"
    )


@bp.route("/counter/kata-sandi", methods=["GET", "POST"])
@counter_signed_in
def counter_password():
    """Change one's own password on the counter page."""
    return _password_page(
        "counter", "counter/password.html", url_for("counter.desk"), "accounts_console.counter_password"
    )


def _password_page(key: str, template: str, onward: str, endpoint: str) -> Response:
    """The change-of-password form (current, new, new again); once changed, the page says so
    and leads on to the surface's home (this session stays, the account's others end)."""
    problems: dict[str, list[str]] = {}
    summary = None
    if request.method == "POST":
        new = request.form.get("password", "")
        if new != request.form.get("password_again", ""):
            problems = {"password_again": ["password_mismatch"]}
        else:
            try:
                _changes().change_own_password(
                    g.account,
                    request.form.get("current_password", ""),
                    new,
                    session.get(f"{key}_id"),
                    client_address(),
                    services().clock(),
                )
            except AccountRejectedError as rejected:
                problems = {rejected.field: [rejected.key]}
            except LockedOutError as locked:
                response = _page(template, status=429, errors={}, summary=error_text("rate_limited"))
                response.headers["Retry-After"] = str(locked.retry_after)
                return response
            else:
                return redirect(url_for(endpoint, diubah=1), 303)
        summary = _("Kata sandi belum diubah. Periksa isian yang ditandai.")
    return _page(
        template,
        status=422 if problems else 200,
        errors=field_texts(problems),
        summary=summary,
        changed=request.args.get("diubah") == "1" and not problems,
        onward=onward,
    )


@bp.get("/admin/akun")
@admin_signed_in
def accounts():
    """The accounts this admin manages: all for a national admin, a branch admin's staff."""
    if not may_manage_accounts(g.account):
        raise ForbiddenError(Action.MANAGE_STAFF.value)
    managed = [a for a in services().accounts.list() if may_manage(g.account, a.role, a.branches)]
    return _page("admin/accounts.html", accounts=managed, deleted=request.args.get("dihapus", ""))


@bp.route("/admin/akun/<username>", methods=["GET", "POST"])
@admin_signed_in
def account(username: str):
    """One account: its state, role and branches, tokens and sessions, and a form for each
    change. A temporary password or a new token is shown once, on the answer to its form."""
    changes = _changes()
    target = changes.managed(g.account, username)
    shown: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    values = request.form.to_dict() if request.method == "POST" else {}
    if request.method == "POST":
        try:
            outcome = _change(changes, target, values)
        except AccountRejectedError as rejected:
            problems = {rejected.field: [rejected.key]}
        else:
            if isinstance(outcome, Response):
                return outcome
            shown = outcome
            target = changes.managed(g.account, username)
    return _account_page(target, shown, problems, values)


def _change(changes: AccountChanges, target: Account, values: dict[str, str]) -> Response | dict:
    """Do the form's ``action``: a redirect to the page once done, or what to show once."""
    action, now, actor = values.get("action", ""), services().clock(), _actor()
    username = target.username
    if action in ("disable", "enable"):
        changes.change(g.account, username, actor, now, disabled=action == "disable")
    elif action == "role":
        branches = tuple(request.form.getlist("branches"))
        changes.change(g.account, username, actor, now, role=values.get("role", ""), branches=branches)
    elif action == "reset":
        return {"temporary_password": changes.reset_password(g.account, username, actor, now)}
    elif action == "unlock":
        changes.unlock(g.account, username, actor, now)
    elif action == "add_token":
        require_token_minting(g.account, target)
        name = " ".join(values.get("name", "").split())[:64] or "token"
        days = _days(values.get("expires_in_days", "").strip())
        return {"token": services().accounts.add_token(username, name, now, actor, days), "token_name": name}
    elif action == "revoke_token":
        services().accounts.revoke_token(username, values.get("token_id", ""), actor, now)
    elif action == "end_session":
        listed = values.get("session_id", "")
        if _sessions().end_listed(username, listed):
            services().accounts.audit(actor, "session_ended", username, {"id": listed}, None, now)
    return redirect(url_for("accounts_console.account", username=username, selesai=action), 303)


def _days(text: str) -> int | None:
    """A token's life in days as typed (empty: it never expires).

    Raises:
        AccountRejectedError: not a whole number from 1 to ``MAX_TOKEN_DAYS``.
    """
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise AccountRejectedError("expires_in_days", "not_integer", "a whole number of days")
    days = int(text)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        key = "at_least_1" if days < 1 else f"at_most_{MAX_TOKEN_DAYS}"
        raise AccountRejectedError("expires_in_days", key, "1 to 366 days")
    return days


def _account_page(target: Account, shown: dict, problems: dict, values: dict) -> Response:
    now = services().clock()
    branches = catalog.list_branches(services().redis)
    if g.account.role != "national_admin":  # a branch admin moves staff among their own only
        branches = [b for b in branches if b.id in g.account.branches]
    return _page(
        "admin/account.html",
        status=422 if problems else 200,
        target=target,
        tokens=services().accounts.tokens(target.username, now),
        sessions=_sessions().of_account(target.username),
        branches=branches,
        roles=ROLES if g.account.role == "national_admin" else (target.role,),
        may_mint=g.account.role != "counter_staff",
        shown=shown,
        done=request.args.get("selesai", ""),
        values=values,
        errors=field_texts(problems),
        max_days=MAX_TOKEN_DAYS,
    )


@bp.route("/admin/akun/<username>/hapus", methods=["GET", "POST"])
@admin_signed_in
def delete_account(username: str):
    """Ask before deleting an account; delete it (its tokens and sessions go, its audit
    entries stay)."""
    changes = _changes()
    target = changes.managed(g.account, username)
    problems: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            changes.delete(g.account, username, _actor(), services().clock())
        except AccountRejectedError as rejected:
            problems = {rejected.field: [rejected.key]}
        else:
            return redirect(url_for("accounts_console.accounts", dihapus=username), 303)
    return _page(
        "admin/account_delete.html",
        status=422 if problems else 200,
        target=target,
        errors=field_texts(problems),
    )
