"""What a participant brings to the branch for a service (and, for a claim such as JHT's, per
reason): data stored with each service in the catalog (``Service.requirements``), which the
national admin edits like the rest of the catalog.

The pages show it on the service step and on the confirmation, through the page catalogs
(``web/translations``): a text that has a translation there (the demo catalog's, in Bahasa
Indonesia, the source language) is shown translated; one an admin wrote is shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reason:
    """A reason for a claim, with the documents it adds to the service's own."""

    id: str
    name: str
    documents: list[str]
    note: str | None = None


@dataclass(frozen=True)
class Requirements:
    """The documents every claim of a service needs, its reasons, and a note if any."""

    documents: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    note: str | None = None

    @classmethod
    def from_dict(cls, data: dict | None) -> Requirements:
        """From the stored (or exchanged) form, ``{"documents", "reasons", "note"}``; None is
        no requirements."""
        if not data:
            return cls()
        return cls(
            list(data.get("documents", [])),
            [
                Reason(reason["id"], reason["name"], list(reason.get("documents", [])), reason.get("note"))
                for reason in data.get("reasons", [])
            ],
            data.get("note"),
        )

    def to_dict(self) -> dict:
        """The stored (and exchanged) form."""
        return {
            "documents": list(self.documents),
            "reasons": [
                {"id": r.id, "name": r.name, "documents": list(r.documents), "note": r.note}
                for r in self.reasons
            ],
            "note": self.note,
        }
