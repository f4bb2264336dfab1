"""The national admin's changes to the catalog: areas, branches and services created and
changed (never deleted: a branch is retired, a service withdrawn from a branch), each
checked whole, written only if the entry is still the one the change was judged against, and
audited in the national stream with its before and after.

The rules:
- ids are slugs (``ID``, at most ``ID_MAX`` characters) and never change;
- a branch's area and services exist; its time zone is WIB, WITA or WIT (``TIMEZONES``);
- a service's queue prefix is one capital letter (queue numbers are ``A-007``, walk-ins
  ``WA-001``) that no other service has;
- a branch's time zone and a service's prefix do not change while the branch (any branch,
  for a service) has bookings from its today on: their days and queue numbers were made
  with the old ones (``has_bookings``);
- a new branch starts with online booking off and no hours (its admins set them through
  the settings) and with its copy of the national closures.

The documents exchanged (the API's bodies, the import and export files) hold exactly the
fields of ``FIELDS``; a branch's ``withdrawn_services`` are worked out here, never exchanged.

A catalog entry and its audit entry live in different cluster slots: the entry is written
first (compare-and-set, ``catalog_set.lua``), then the audit entry, as the accounts do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from redis import Redis

from queue_service.domain import audit, calendar, schedules
from queue_service.domain.audit import Actor
from queue_service.domain.catalog import Area, Branch, Service, copy_to_branches, to_json
from queue_service.domain.errors import NotFoundError, StoreUnavailableError, ValidationFailedError
from queue_service.domain.requirements import Requirements
from queue_service.domain.tuning import BOUNDS
from queue_service.store import keys
from queue_service.store.scripts import for_client

AREA, BRANCH, SERVICE = "area", "branch", "service"
KINDS = (AREA, SERVICE, BRANCH)  # in the order a catalog is built: what a branch names first

# An id: lower-case letters and digits in words joined by single hyphens (``jakarta-salemba``).
ID = r"[a-z0-9]+(-[a-z0-9]+)*"
ID_MAX = 64
TIMEZONES = tuple(schedules.TIMEZONE_LABELS)  # Asia/Jakarta (WIB), Asia/Makassar, Asia/Jayapura
PREFIX = r"[A-Z]"
# A name, an address, a document: text with no control character and no space at either end.
TEXT = r"[^\x00-\x20\x7f]([^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?"
NAME_MAX = 100
ADDRESS_MAX = 300
DOCUMENT_MAX = 300
NOTE_MAX = 500
DOCUMENTS_MAX = 30
REASONS_MAX = 20
SERVICES_MAX = 26  # one prefix letter each

FIELDS = {
    AREA: ("id", "name"),
    BRANCH: ("id", "name", "area_id", "address", "timezone", "services", "retired"),
    SERVICE: ("id", "name", "prefix", "requirements"),
}
# Fields a document may leave out, and what they then are.
DEFAULTS: dict[str, dict[str, object]] = {
    AREA: {},
    BRANCH: {"retired": False},
    SERVICE: {"requirements": Requirements().to_dict()},
}
_KEYS = {AREA: keys.AREAS, BRANCH: keys.BRANCHES, SERVICE: keys.SERVICES}
_ENTRY = {AREA: Area, BRANCH: Branch, SERVICE: Service}
_ID, _PREFIX, _TEXT = re.compile(ID), re.compile(PREFIX), re.compile(TEXT)
_ATTEMPTS = 5
# Bookings are made at most the longest booking window ahead: a branch's days to look at.
_HORIZON_DAYS = (BOUNDS["booking_window_days"].ceiling or 366) + 1


def new_branch_settings() -> schedules.BranchSettings:
    """A new branch's settings: online booking off and no hours, until its admins set them."""
    return schedules.BranchSettings(
        online_booking=False,
        daily_quota=100,
        slot_minutes=30,
        slot_capacity=10,
        booking_window_days=14,
        booking_cutoff_minutes=60,
        service_hours={weekday: [] for weekday in schedules.WEEKDAYS},
        service_quotas={},
    )


@dataclass
class Catalog:
    """The whole catalog as read at one moment (``raw``: each entry's stored JSON)."""

    entries: dict[str, dict[str, Area | Branch | Service]]
    raw: dict[str, dict[str, str]] = field(default_factory=dict)

    def of(self, kind: str) -> dict:
        return self.entries[kind]

    def with_entry(self, kind: str, entry: Area | Branch | Service) -> Catalog:
        """A copy with ``entry`` added or replaced (what an import would leave)."""
        entries = {name: dict(found) for name, found in self.entries.items()}
        entries[kind][entry.id] = entry
        return Catalog(entries, self.raw)


def read_catalog(redis: Redis) -> Catalog:
    """The catalog, in one round trip."""
    pipe = redis.pipeline(transaction=False)
    for kind in KINDS:
        pipe.hgetall(_KEYS[kind])
    stored = dict(zip(KINDS, pipe.execute(), strict=True))
    return Catalog(
        {
            kind: {item_id: _ENTRY[kind].from_json(raw) for item_id, raw in stored[kind].items()}
            for kind in KINDS
        },
        stored,
    )


def document(kind: str, entry: Area | Branch | Service) -> dict:
    """The exchanged form of an entry: exactly its ``FIELDS``."""
    data = dataclasses.asdict(entry)
    if kind == SERVICE:
        data["requirements"] = entry.requirements.to_dict()
    return {name: data[name] for name in FIELDS[kind]}


def read_document(kind: str, given: object, path_id: str | None = None) -> tuple[dict, dict[str, list[str]]]:
    """Check the values of one document on their own (not against the rest of the catalog).

    Args:
        kind: ``area``, ``branch`` or ``service``.
        given: the document as sent (any JSON value); fields left out take ``DEFAULTS``.
        path_id: the id a change names apart from the document (the URL's): the document's
            own ``id`` may then be left out, and must be the same if given (``id_mismatch``).

    Returns:
        The document in its exchanged form (complete when there are no problems), and the
        problems by field (message keys of ``web.messages``).
    """
    problems: dict[str, list[str]] = {}
    if not isinstance(given, Mapping):
        return {}, {"body": ["not_object"]}
    for name in given:
        if name not in FIELDS[kind]:
            problems.setdefault(str(name), []).append("unknown_field")
    values = {**DEFAULTS[kind], **given}
    if path_id is not None:
        if "id" in given and given["id"] != path_id:
            problems.setdefault("id", []).append("id_mismatch")
        values["id"] = path_id
    checked: dict = {}
    for name in FIELDS[kind]:
        check = _CHECKS[name]
        if name not in values:
            problems.setdefault(name, []).append("required")
            continue
        value, found = check(values[name])
        for path, keys_found in found.items():
            problems.setdefault(f"{name}.{path}" if path else name, []).extend(keys_found)
        checked[name] = value
    return checked, problems


def _check_id(value: object) -> tuple[object, dict]:
    if not isinstance(value, str):
        return value, {"": ["not_string"]}
    if len(value) > ID_MAX or not _ID.fullmatch(value):
        return value, {"": ["invalid_slug"]}
    return value, {}


def _checker_of_text(limit: int, nullable: bool = False) -> Callable[[object], tuple[object, dict]]:
    def check(value: object) -> tuple[object, dict]:
        if value is None and nullable:
            return None, {}
        if not isinstance(value, str):
            return value, {"": ["not_string"]}
        if len(value) > limit:
            return value, {"": ["too_long"]}
        if not _TEXT.fullmatch(value):
            return value, {"": ["text_format"]}
        return value, {}

    return check


def _check_timezone(value: object) -> tuple[object, dict]:
    if not isinstance(value, str):
        return value, {"": ["not_string"]}
    return value, {} if value in TIMEZONES else {"": ["unknown_timezone"]}


def _check_prefix(value: object) -> tuple[object, dict]:
    if not isinstance(value, str):
        return value, {"": ["not_string"]}
    return value, {} if _PREFIX.fullmatch(value) else {"": ["prefix_format"]}


def _check_retired(value: object) -> tuple[object, dict]:
    return value, {} if isinstance(value, bool) else {"": ["not_boolean"]}


def _check_services(value: object) -> tuple[object, dict]:
    if not isinstance(value, list):
        return value, {"": ["not_list"]}
    found: dict[str, list[str]] = {}
    for index, item in enumerate(value):
        if not isinstance(item, str):
            found[str(index)] = ["not_string"]
    if len(value) > SERVICES_MAX:
        found.setdefault("", []).append("too_many")
    return list(dict.fromkeys(item for item in value if isinstance(item, str))), found


def _check_texts(value: object, limit: int, most: int) -> tuple[object, dict]:
    """A list of at most ``most`` texts of at most ``limit`` characters."""
    if not isinstance(value, list):
        return value, {"": ["not_list"]}
    found: dict[str, list[str]] = {}
    text = _checker_of_text(limit)
    for index, item in enumerate(value):
        if refused := text(item)[1]:
            found[str(index)] = refused[""]
    if len(value) > most:
        found.setdefault("", []).append("too_many")
    return value, found


def _check_requirements(value: object) -> tuple[object, dict]:
    if not isinstance(value, Mapping):
        return value, {"": ["not_object"]}
    found: dict[str, list[str]] = {}

    def refuse(path: str, refused: dict) -> None:
        for inner, keys_found in refused.items():
            found.setdefault(".".join(part for part in (path, inner) if part), []).extend(keys_found)

    for name in value:
        if name not in ("documents", "reasons", "note"):
            refuse(str(name), {"": ["unknown_field"]})
    documents, refused = _check_texts(value.get("documents", []), DOCUMENT_MAX, DOCUMENTS_MAX)
    refuse("documents", refused)
    note, refused = _checker_of_text(NOTE_MAX, nullable=True)(value.get("note"))
    refuse("note", refused)
    reasons = value.get("reasons", [])
    checked_reasons = []
    if not isinstance(reasons, list):
        refuse("reasons", {"": ["not_list"]})
    else:
        if len(reasons) > REASONS_MAX:
            refuse("reasons", {"": ["too_many"]})
        seen: set[str] = set()
        for index, reason in enumerate(reasons):
            reason_value, refused = _check_reason(reason)
            refuse(f"reasons.{index}", refused)
            if isinstance(reason, Mapping) and isinstance(reason.get("id"), str):
                if reason["id"] in seen:
                    refuse(f"reasons.{index}.id", {"": ["duplicate_id"]})
                seen.add(reason["id"])
            checked_reasons.append(reason_value)
    return {"documents": documents, "reasons": checked_reasons, "note": note}, found


def _check_reason(value: object) -> tuple[object, dict]:
    if not isinstance(value, Mapping):
        return value, {"": ["not_object"]}
    found: dict[str, list[str]] = {}
    for name in value:
        if name not in ("id", "name", "documents", "note"):
            found[str(name)] = ["unknown_field"]
    checks = {
        "id": _check_id,
        "name": _checker_of_text(NAME_MAX),
        "documents": lambda documents: _check_texts(documents, DOCUMENT_MAX, DOCUMENTS_MAX),
        "note": _checker_of_text(NOTE_MAX, nullable=True),
    }
    values = {"documents": [], "note": None, **value}
    checked = {}
    for name, check in checks.items():
        if name not in values:
            found[name] = ["required"]
            continue
        checked[name], refused = check(values[name])
        for inner, keys_found in refused.items():
            found.setdefault(".".join(part for part in (name, inner) if part), []).extend(keys_found)
    return checked, found


_CHECKS: dict[str, Callable[[object], tuple[object, dict]]] = {
    "id": _check_id,
    "name": _checker_of_text(NAME_MAX),
    "area_id": lambda value: (value, {} if isinstance(value, str) else {"": ["not_string"]}),
    "address": _checker_of_text(ADDRESS_MAX),
    "timezone": _check_timezone,
    "services": _check_services,
    "retired": _check_retired,
    "prefix": _check_prefix,
    "requirements": _check_requirements,
}


def entry_of(kind: str, checked: dict, current: Branch | None = None) -> Area | Branch | Service:
    """The entry a checked document makes; a branch's ``withdrawn_services`` are those it
    offered (``current``'s, and those it had withdrawn before) and no longer does."""
    if kind == AREA:
        return Area(checked["id"], checked["name"])
    if kind == SERVICE:
        return Service(
            checked["id"], checked["name"], checked["prefix"], Requirements.from_dict(checked["requirements"])
        )
    before = [*current.withdrawn_services, *current.services] if current is not None else []
    return Branch(
        checked["id"],
        checked["name"],
        checked["area_id"],
        checked["address"],
        checked["timezone"],
        list(checked["services"]),
        checked["retired"],
        list(dict.fromkeys(s for s in before if s not in checked["services"])),
    )


def catalog_problems(kind: str, entry: Area | Branch | Service, catalog: Catalog) -> dict[str, list[str]]:
    """What ``entry`` breaks against the rest of ``catalog``: an area or a service a branch
    names that does not exist, a prefix another service has."""
    problems: dict[str, list[str]] = {}
    if isinstance(entry, Branch):
        if entry.area_id not in catalog.of(AREA):
            problems["area_id"] = ["unknown_area"]
        if any(service_id not in catalog.of(SERVICE) for service_id in entry.services):
            problems["services"] = ["unknown_service"]
    if isinstance(entry, Service) and any(
        other.prefix == entry.prefix and other.id != entry.id for other in catalog.of(SERVICE).values()
    ):
        problems["prefix"] = ["prefix_taken"]
    return problems


class CatalogChanges:
    """Creating and changing catalog entries over the data store (``decode_responses=True``),
    each checked, written and audited.

    Args:
        on_change: told the id of each branch whose bookability a change may alter (every
            branch offering a changed service), or None for every branch: a cache of answers
            drops them.
    """

    def __init__(self, redis: Redis, on_change: Callable[[str | None], None] | None = None):
        self.redis = redis
        self.on_change = on_change
        self.scripts = for_client(redis)

    def create(self, kind: str, given: object, actor: Actor, now: dt.datetime) -> Area | Branch | Service:
        """Add an entry described by ``given`` (its exchanged form).

        Returns:
            The entry as stored.

        Raises:
            ValidationFailedError: a value breaks a rule (every field at fault named), or
                the id is taken (``id_taken``).
        """
        checked, problems = read_document(kind, given)
        if problems:
            raise ValidationFailedError(problems)
        for _attempt in range(_ATTEMPTS):
            catalog = read_catalog(self.redis)
            if checked["id"] in catalog.of(kind):
                raise ValidationFailedError({"id": ["id_taken"]})
            entry = entry_of(kind, checked)
            if problems := catalog_problems(kind, entry, catalog):
                raise ValidationFailedError(problems)
            if isinstance(entry, Branch):
                prepare_new_branch(self.redis, entry.id)
            if self._write(kind, entry, None, unique=True):
                self._audit(actor, kind, None, checked, now)
                return entry
        raise StoreUnavailableError("the catalog kept changing")

    def update(
        self, kind: str, item_id: str, given: object, actor: Actor, now: dt.datetime
    ) -> Area | Branch | Service:
        """Replace the entry ``item_id`` with ``given`` (whole: a field left out takes its
        default; ``id``, if given, must be ``item_id``).

        Returns:
            The entry as stored.

        Raises:
            NotFoundError: no such entry.
            ValidationFailedError: a value breaks a rule (every field at fault named), or a
                time zone or prefix would change under bookings (``has_bookings``).
        """
        checked, problems = read_document(kind, given, path_id=item_id)
        if _ID.fullmatch(item_id) is None or len(item_id) > ID_MAX:
            raise NotFoundError(kind)  # no entry can have an id that is no slug
        for _attempt in range(_ATTEMPTS):
            catalog = read_catalog(self.redis)
            current = catalog.of(kind).get(item_id)
            if current is None:
                raise NotFoundError(kind)
            if problems:
                raise ValidationFailedError(problems)
            entry = entry_of(kind, checked, current if isinstance(current, Branch) else None)
            found = catalog_problems(kind, entry, catalog) or self.booking_problems(
                current, entry, catalog, now
            )
            if found:
                raise ValidationFailedError(found)
            if self._write(kind, entry, catalog.raw[kind][item_id], unique=True):
                before = document(kind, current)
                if before != checked:
                    self._audit(actor, kind, before, checked, now)
                return entry
        raise StoreUnavailableError("the catalog kept changing")

    def booking_problems(
        self,
        current: Area | Branch | Service | None,
        entry: Area | Branch | Service,
        catalog: Catalog,
        now: dt.datetime,
    ) -> dict[str, list[str]]:
        """``has_bookings`` for a branch's time zone or a service's prefix that ``entry``
        changes while there are bookings it was used for, from today on (each branch's today)."""
        if isinstance(current, Branch) and current.timezone != entry.timezone:
            # From the earlier of the two todays: either zone's today is the branch's, for a day.
            first = min(schedules.local_now(now, zone).date() for zone in (current.timezone, entry.timezone))
            if has_bookings(self.redis, current.id, first):
                return {"timezone": ["has_bookings"]}
        if isinstance(current, Service) and current.prefix != entry.prefix:
            branches = [b for b in catalog.of(BRANCH).values() if current.id in b.queue_services]
            if has_numbers(self.redis, current.id, branches, now):
                return {"prefix": ["has_bookings"]}
        return {}

    def write_all(
        self,
        items: Iterable[tuple[str, Area | Branch | Service, str | None]],
        actor: Actor | None,
        now: dt.datetime,
    ) -> None:
        """Write entries judged already, together (an import's, against its whole file): each new
        branch's settings and closures first, then every entry with its audit entry in one
        pipelined round trip (``actor`` None: no audit entry, as for the demo's seed).

        Args:
            items: ``(kind, entry, stored)``, ``stored`` the entry's JSON as read (None: new).
        """
        items = list(items)
        for _kind, entry, stored in items:
            if stored is None and isinstance(entry, Branch):
                prepare_new_branch(self.redis, entry.id)
        pipe = self.redis.pipeline(transaction=False)
        for kind, entry, stored in items:
            pipe.hset(_KEYS[kind], entry.id, to_json(entry))
            if actor is not None:
                before = document(kind, _ENTRY[kind].from_json(stored)) if stored is not None else None
                self._audit(actor, kind, before, document(kind, entry), now, client=pipe)
        pipe.execute()
        if any(kind != AREA for kind, _entry, _stored in items):
            copy_to_branches(self.redis)
        if self.on_change is not None:
            self.on_change(None)

    def _write(self, kind: str, entry: Area | Branch | Service, stored: str | None, unique: bool) -> bool:
        """Compare-and-set the entry; False when it changed since ``stored`` was read.

        Raises:
            ValidationFailedError: another service took the prefix meanwhile.
        """
        outcome = self.scripts.catalog_set(
            keys=[_KEYS[kind]],
            args=[
                entry.id,
                hashlib.sha1(stored.encode()).hexdigest() if stored is not None else "",
                to_json(entry),
                "prefix" if unique and kind == SERVICE else "",
            ],
        )
        if outcome == "taken":
            raise ValidationFailedError({"prefix": ["prefix_taken"]})
        if outcome == "conflict":
            return False
        if kind != AREA:  # a branch's copy holds its entry and its services'
            copy_to_branches(self.redis, [entry.id] if kind == BRANCH else None)
        if self.on_change is not None:
            self.on_change(entry.id if kind == BRANCH else None)
        return True

    def _audit(
        self, actor: Actor, kind: str, before: dict | None, after: dict, now: dt.datetime, client=None
    ) -> None:
        """Catalog changes concern no one branch: the national stream."""
        action = f"{kind}_created" if before is None else f"{kind}_changed"
        audit.record(
            client or self.redis, keys.NATIONAL_AUDIT, actor, action, after["id"], before, after, now
        )


def prepare_new_branch(redis: Redis, branch_id: str) -> None:
    """What a branch has before it is in the catalog (so no reader finds it without them): its
    settings, unless it has some (online booking off, no hours), and the national closures."""
    schedules.store_settings(redis, branch_id, new_branch_settings(), overwrite=False)
    calendar.copy_national_closures(redis, branch_id)


def has_bookings(redis: Redis, branch_id: str, first: dt.date) -> bool:
    """Whether the branch holds active bookings (held, booked or checked in) on ``first`` or
    a later day."""
    days = (first + dt.timedelta(days=offset) for offset in range(_HORIZON_DAYS))
    return _any_reply(redis, ((keys.day_counts(branch_id, d.isoformat()), "total") for d in days), _positive)


def has_numbers(redis: Redis, service_id: str, branches: Iterable[Branch], now: dt.datetime) -> bool:
    """Whether queue numbers of ``service_id`` were issued (cancelled ones too: a number is
    never reused in its day) at any of ``branches`` for its today or a later day, or walk-in
    tickets today."""

    def fields():
        for branch in branches:
            today = schedules.local_now(now, branch.timezone).date()
            yield keys.walk_in_counts(branch.id, today.isoformat()), f"service:{service_id}"
            for offset in range(_HORIZON_DAYS):
                day = (today + dt.timedelta(days=offset)).isoformat()
                yield keys.queue_sequence(branch.id, day), service_id

    return _any_reply(redis, fields(), _positive)


def _positive(reply: str | None) -> bool:
    return reply is not None and int(reply) > 0


def _any_reply(redis: Redis, fields: Iterable[tuple[str, str]], test, batch: int = 2000) -> bool:
    """Whether ``test`` holds for the value of any (hash, field), read ``batch`` at a time."""
    pipe = redis.pipeline(transaction=False)
    queued = 0
    for key, name in fields:
        pipe.hget(key, name)
        queued += 1
        if queued == batch:
            if any(test(reply) for reply in pipe.execute()):
                return True
            queued = 0
    return queued > 0 and any(test(reply) for reply in pipe.execute())
