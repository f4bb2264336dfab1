"""Server-drawn SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from queue_service.web.charts import Bar, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_a_bar_chart_is_well_formed_svg_with_a_bar_and_a_number_each():
    svg = bar_chart(
        "Booked <vs> quota", "Two days", [Bar("Sen 23", 120, 160), Bar("Sel 24", 0, 160, muted=True)]
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Booked <vs> quota"
    rects = root.findall(f"{SVG}rect")
    assert [r.find(f"{SVG}title").text for r in rects] == ["Sen 23: 120 / 160", "Sel 24: 0 / 160"]
    assert rects[1].get("class") == "bar muted"
    values = [t.text for t in root.findall(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["120", "0"]
    # The taller bar is the larger value; the dashed quota mark sits above it.
    assert float(rects[0].get("height")) > float(rects[1].get("height"))


def test_an_empty_chart_still_draws():
    assert ET.fromstring(bar_chart("Nothing", "No days", [])).tag == f"{SVG}svg"
