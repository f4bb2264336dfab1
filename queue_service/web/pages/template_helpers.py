"""The functions every page template may call: how slots, waits and codes read on a page."""

from __future__ import annotations

from flask_babel import gettext as _

from queue_service.domain import schedules
from queue_service.web import i18n
from queue_service.web.pages.assets import asset_url


def slot_label(start: str, end: str, timezone: str) -> str:
    """ "09:00–09:30 WIB"."""
    return f"{start}–{end} {schedules.timezone_label(timezone)}"


def wait_minutes(seconds: int | None) -> str:
    """An estimated wait as people read it: "± 12 menit", "< 1 menit", or "—" (not known yet)."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return _("< 1 menit")
    return _("± %(minutes)d menit", minutes=round(seconds / 60))


def group_code(code: str) -> str:
    """A booking code in groups of five for reading aloud: "7K3QX 9MZ2W"."""
    return " ".join(code[i : i + 5] for i in range(0, len(code), 5))


def template_helpers() -> dict:
    """Functions every page template may call."""
    return {
        "asset_url": asset_url,
        "slot_label": slot_label,
        "group_code": group_code,
        "timezone_label": schedules.timezone_label,
        "page_locale": i18n.page_locale,
        "wait_minutes": wait_minutes,
        "switch_url": i18n.switch_url,
    }
