"""Who may do what: the one place that decides, for every surface (API, console, CLI)."""

from __future__ import annotations

from enum import StrEnum

from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN, Account
from queue_service.domain.errors import ForbiddenError


class Action(StrEnum):
    READ_BRANCH = "read_branch"  # settings, dates, audit of a branch
    TUNE_BRANCH = "tune_branch"  # change settings, closures, quota overrides
    READ_BOOKINGS = "read_bookings"  # a day's bookings, masked
    OPERATE_QUEUE = "operate_queue"  # call, recall, serve at a counter
    CANCEL_BOOKING = "cancel_booking"  # cancel one booking of the branch, with a reason
    MANAGE_STAFF = "manage_staff"  # counter staff of a branch, and their tokens
    CLOSE_NATIONALLY = "close_nationally"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_CATALOG = "manage_catalog"  # areas, branches and services


# What each role may do on the branches its account names (a national admin: on all).
_ALLOWED = {
    NATIONAL_ADMIN: frozenset(Action),
    BRANCH_ADMIN: frozenset(
        {
            Action.READ_BRANCH,
            Action.TUNE_BRANCH,
            Action.READ_BOOKINGS,
            Action.OPERATE_QUEUE,
            Action.CANCEL_BOOKING,
            Action.MANAGE_STAFF,
        }
    ),
    COUNTER_STAFF: frozenset({Action.OPERATE_QUEUE, Action.CANCEL_BOOKING}),
}
# Actions about no one branch.
_NATIONAL_ACTIONS = frozenset({Action.CLOSE_NATIONALLY, Action.MANAGE_ACCOUNTS, Action.MANAGE_CATALOG})


def may(account: Account, action: Action, branch_id: str | None = None) -> bool:
    """Whether ``account`` may do ``action`` (on ``branch_id`` where it concerns a branch)."""
    if action not in _ALLOWED.get(account.role, ()):
        return False
    if account.role == NATIONAL_ADMIN or action in _NATIONAL_ACTIONS:
        return True
    return branch_id is not None and branch_id in account.branches


def require(account: Account, action: Action, branch_id: str | None = None) -> None:
    """Refuse unless ``may``.

    Raises:
        ForbiddenError: the account's role or branches do not cover it.
    """
    if not may(account, action, branch_id):
        raise ForbiddenError(action.value)


def may_manage(account: Account, role: str, branches: tuple[str, ...]) -> bool:
    """Whether ``account`` may create, change, disable, delete, reset or unlock an account of
    ``role`` on ``branches``, or handle its tokens and sessions (or make an account into one of
    ``role`` on ``branches``): national admins any; branch admins counter staff of their own
    branches."""
    if may(account, Action.MANAGE_ACCOUNTS):
        return True
    return (
        role == COUNTER_STAFF
        and bool(branches)
        and all(may(account, Action.MANAGE_STAFF, branch_id) for branch_id in branches)
    )


def require_manage(account: Account, role: str, branches: tuple[str, ...]) -> None:
    """Refuse unless ``may_manage``.

    Raises:
        ForbiddenError: not the account's to manage.
    """
    if not may_manage(account, role, branches):
        raise ForbiddenError(Action.MANAGE_STAFF.value)


def may_manage_accounts(account: Account) -> bool:
    """Whether ``account`` manages any accounts at all: national admins, and admins of branches
    (their branches' counter staff)."""
    return may(account, Action.MANAGE_ACCOUNTS) or any(
        may(account, Action.MANAGE_STAFF, branch_id) for branch_id in account.branches
    )


def require_token_minting(account: Account, target: Account) -> None:
    """Refuse unless ``account`` may create an API token for ``target``: admins only, for
    themselves or an account they manage. Counter staff never: a token a clerk minted for
    themself would outlive the revocation of the one an admin gave them.

    Raises:
        ForbiddenError: counter staff, or not the account's to manage.
    """
    if account.role == COUNTER_STAFF:
        raise ForbiddenError(Action.MANAGE_STAFF.value)
    if target.username != account.username:
        require_manage(account, target.role, target.branches)


def branches_of(account: Account, all_branch_ids: list[str]) -> list[str]:
    """The branches ``account`` may read, in the order given."""
    return [branch_id for branch_id in all_branch_ids if may(account, Action.READ_BRANCH, branch_id)]
