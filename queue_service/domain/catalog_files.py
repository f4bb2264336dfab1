"""Catalog files: the whole catalog written out (``export``) and read in (``import_catalog``),
for an agency's first day and for changes in bulk (``queue-service import-catalog``,
``export-catalog``), and the demo's catalog (``demo.seed``).

A JSON file is ``{"areas": [...], "services": [...], "branches": [...]}`` (any section may be
left out), each entry with exactly the fields of the admin API (``catalog_changes.FIELDS``). A
CSV file holds branches only: the header ``id,name,area_id,address,timezone,services,retired``,
the services separated by ``;`` (``jht;jkk;info``), ``retired`` ``true`` or ``false`` (empty:
false). Text is taken without the spaces around it.

An import checks every row first, each on its own and against the catalog the whole file
would leave (a branch may name an area the same file adds), and changes nothing when one row
is wrong. Otherwise it writes what differs and leaves the rest alone, so importing a file
twice, or the export of the catalog, changes nothing. Each entry added or changed is audited
with its before and after.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

from queue_service.domain import catalog_changes
from queue_service.domain.audit import Actor
from queue_service.domain.catalog_changes import AREA, BRANCH, FIELDS, KINDS, SERVICE, Catalog, CatalogChanges

SECTIONS = {AREA: "areas", SERVICE: "services", BRANCH: "branches"}
CSV_HEADER = FIELDS[BRANCH]
CSV_SERVICES_SEPARATOR = ";"


class CatalogFileError(ValueError):
    """A file that cannot be read as a catalog at all (not JSON, not UTF-8, a wrong header)."""


@dataclass(frozen=True)
class Row:
    """One entry of a file, as written there; ``label`` says where (``branches row 3``)."""

    kind: str
    label: str
    given: object
    problem: tuple[str, str] | None = None  # (field, key): the row cannot even be read


@dataclass(frozen=True)
class Problem:
    label: str
    field: str
    key: str  # a message key of web.messages

    def __str__(self) -> str:
        return f"{self.label}: {self.field}: {self.key}"


@dataclass
class ImportReport:
    """What an import adds, changes and leaves alone, by kind; or why it changes nothing."""

    added: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    changed: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    unchanged: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    problems: list[Problem] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return sum(len(ids) for ids in (*self.added.values(), *self.changed.values()))

    def lines(self) -> list[str]:
        """One line per kind: how many were added, changed and left alone, and which."""

        def part(word: str, ids: list[str]) -> str:
            return f"{word} {len(ids)}" + (f" ({', '.join(ids)})" if ids else "")

        return [
            f"{SECTIONS[kind]}: "
            + "; ".join(
                part(word, found[kind])
                for word, found in (
                    ("added", self.added),
                    ("changed", self.changed),
                    ("unchanged", self.unchanged),
                )
            )
            for kind in KINDS
        ]


def read_file(path: Path) -> list[Row]:
    """The rows of a catalog file: JSON, or CSV (branches) when its name ends in ``.csv``.

    Raises:
        CatalogFileError: the file cannot be read as either.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's UTF-8 starts with a BOM
    except UnicodeDecodeError as error:
        raise CatalogFileError(f"not UTF-8 text: {error}") from None
    return read_csv(text) if path.suffix.lower() == ".csv" else read_json(text)


def read_json(text: str) -> list[Row]:
    """The rows of a JSON catalog file.

    Raises:
        CatalogFileError: not JSON, not an object, a section that is not a list or an unknown one.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogFileError(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise CatalogFileError(
            'not a catalog: expected {"areas": [...], "services": [...], "branches": [...]}'
        )
    unknown = sorted(set(data) - set(SECTIONS.values()))
    if unknown:
        raise CatalogFileError(f"unknown section {', '.join(map(repr, unknown))}: areas, services, branches")
    rows = []
    for kind in KINDS:
        entries = data.get(SECTIONS[kind], [])
        if not isinstance(entries, list):
            raise CatalogFileError(f"{SECTIONS[kind]}: expected a list")
        rows += [
            Row(kind, f"{SECTIONS[kind]} row {number}", _stripped(given))
            for number, given in enumerate(entries, 1)
        ]
    return rows


def read_csv(text: str) -> list[Row]:
    """The rows of a CSV file of branches (row 1 the header, so row N is a spreadsheet's row N).

    Raises:
        CatalogFileError: the header is not ``CSV_HEADER``.
    """
    reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader, [])]
    if tuple(header) != CSV_HEADER:
        raise CatalogFileError(
            f"the header must be {','.join(CSV_HEADER)} (found {','.join(header) or 'none'})"
        )
    rows = []
    for number, cells in enumerate(reader, 2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        label = f"row {number}"
        if len(cells) != len(CSV_HEADER):
            rows.append(Row(BRANCH, label, None, ("cells", f"{len(CSV_HEADER)}_cells_expected")))
            continue
        given: dict[str, object] = dict(zip(CSV_HEADER, (cell.strip() for cell in cells), strict=True))
        given["services"] = [
            s.strip() for s in str(given["services"]).split(CSV_SERVICES_SEPARATOR) if s.strip()
        ]
        given["retired"] = {"": False, "false": False, "true": True}.get(
            str(given["retired"]).lower(), given["retired"]
        )
        rows.append(Row(BRANCH, label, given))
    return rows


def _stripped(value: object) -> object:
    """``value`` with every text in it stripped of the spaces around it."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [_stripped(item) for item in value]
    if isinstance(value, dict):
        return {key: _stripped(item) for key, item in value.items()}
    return value


def import_catalog(
    redis: Redis,
    rows: list[Row],
    now: dt.datetime,
    actor: Actor | None,
    dry_run: bool = False,
    only_missing: bool = False,
) -> ImportReport:
    """Check every row, then (unless one is wrong, or ``dry_run``) write what differs.

    Args:
        now: judges which bookings are "from today on" (a time zone or prefix under them).
        actor: whom the audit log names (None: no entry, as for the demo's seed).
        only_missing: leave an entry that exists as it is, except for a field it lacks (one an
            older version did not store): the demo's seed, which never undoes an admin's change.

    Returns:
        What is (or, with ``dry_run`` or problems, would be) added, changed and left alone, and
        the problems, each naming its row and field.
    """
    stored = catalog_changes.read_catalog(redis)
    report = ImportReport()
    checked_rows = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if row.problem is not None:
            report.problems.append(Problem(row.label, *row.problem))
            continue
        checked, problems = catalog_changes.read_document(row.kind, row.given)
        identified = isinstance(checked.get("id"), str) and "id" not in problems
        if identified and (row.kind, checked["id"]) in seen:
            problems.setdefault("id", []).append("duplicate_id")
        if identified:
            seen.add((row.kind, checked["id"]))
        label = f"{row.label} ({checked['id']})" if identified else row.label
        report.problems += [Problem(label, name, key) for name, keys in problems.items() for key in keys]
        if not problems:
            checked_rows.append((row.kind, label, checked))
    planned = stored
    writes = []
    judged = []
    for kind, label, checked in checked_rows:
        current = stored.of(kind).get(checked["id"])
        raw = stored.raw[kind].get(checked["id"])
        if current is not None and only_missing:
            checked = _completed(kind, raw, checked)
        entry = catalog_changes.entry_of(kind, checked, current if kind == BRANCH else None)
        planned = planned.with_entry(kind, entry)
        judged.append((kind, label, checked, current, raw, entry))
    changes = CatalogChanges(redis)
    for kind, label, checked, current, raw, entry in judged:
        if current is not None and catalog_changes.document(kind, current) == checked:
            report.unchanged[kind].append(entry.id)
            continue
        problems = catalog_changes.catalog_problems(kind, entry, planned) or changes.booking_problems(
            current, entry, planned, now
        )
        report.problems += [Problem(label, name, key) for name, keys in problems.items() for key in keys]
        (report.added if current is None else report.changed)[kind].append(entry.id)
        writes.append((kind, entry, raw))
    if not report.problems and not dry_run and writes:
        changes.write_all(writes, actor, now)
    return report


def _completed(kind: str, raw: str, checked: dict) -> dict:
    """An existing entry as stored, its missing fields taken from ``checked``."""
    stored = json.loads(raw)
    return {name: stored.get(name, checked[name]) for name in FIELDS[kind]}


def export(redis: Redis) -> dict:
    """The whole catalog as a JSON catalog file's data, each kind by id."""
    stored: Catalog = catalog_changes.read_catalog(redis)
    return {
        SECTIONS[kind]: [
            catalog_changes.document(kind, entry) for _id, entry in sorted(stored.of(kind).items())
        ]
        for kind in KINDS
    }


def to_text(data: dict) -> str:
    """A catalog file's text: JSON, two spaces of indent, UTF-8 as it is (no ``\\u`` escapes)."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def extract_texts(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, None, str, list]]:
    """Babel's extractor for a catalog file (``babel.cfg``): the texts the pages translate, the
    services' names and what to bring, so the page catalogs keep their translations."""
    source = fileobj.read().decode("utf-8")
    data = json.loads(source)

    def line_of(text: str) -> int:
        return source.count("\n", 0, max(source.find(json.dumps(text, ensure_ascii=False)), 0)) + 1

    for service in data.get("services", []):
        requirements = service.get("requirements") or {}
        texts = [service["name"], *requirements.get("documents", [])]
        for reason in requirements.get("reasons", []):
            texts += [reason["name"], *reason.get("documents", []), reason.get("note")]
        texts.append(requirements.get("note"))
        for text in texts:
            if text:
                yield line_of(text), None, text, []
