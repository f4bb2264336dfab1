"""Reading the forms of a page as a browser without JavaScript would send them."""

from __future__ import annotations

from html.parser import HTMLParser

# The details form of a place: Jakarta Salemba, JHT, Tuesday 24 November at 09:00.
DETAILS = "/pesan?branch_id=jakarta-salemba&service_id=jht&date=2026-11-24&slot=09:00"


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": attrs.get("action"), "method": attrs.get("method", "get"), "fields": {}}
            )
        elif tag == "input" and self.forms and "name" in attrs and "disabled" not in attrs:
            if attrs.get("type") in ("radio", "checkbox"):
                self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value", "on"))
            else:
                self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def forms(html: str) -> list[dict]:
    """Every form of ``html``: action, method and the fields it would send (the first
    enabled radio button of each group chosen)."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form(html: str, action: str) -> dict:
    """The fields of the form posting to ``action``."""
    return next(f["fields"] for f in forms(html) if f["action"] == action)


class _Choices(HTMLParser):
    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.enabled: list[str] = []
        self.disabled: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "radio" and attrs.get("name") == self.name:
            (self.disabled if "disabled" in attrs else self.enabled).append(attrs.get("value", ""))


def choices(html: str, name: str) -> tuple[list[str], list[str]]:
    """The values of the radio buttons ``name`` of ``html``: those that can be chosen, and
    those shown disabled."""
    parser = _Choices(name)
    parser.feed(html)
    return parser.enabled, parser.disabled
