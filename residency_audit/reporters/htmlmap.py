"""The HTML report's map: where the copies sit, and which of those places are foreign from the viewpoint.

An inline SVG drawn here from world.json beside this module (its `source` field records the data's origin and
licence), a legend, the places the map cannot show, and the same facts as a table for print and screen readers.
A country is coloured by where it stands from the viewpoint (home, trusted, foreign), never by the exposure of a
resource that also has a copy elsewhere: that level belongs to the resource's row.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from importlib import resources as package_files
from typing import Any

_SMALL_AREA = 80  # countries smaller than this (square map units) also get a dot, or Singapore would be invisible
_UNKNOWN_LISTED = 200  # unknown locations named under the map; the rest are counted (the table has them all)


@lru_cache(maxsize=1)
def world() -> dict[str, Any]:
    """The bundled country shapes: {source, viewBox, countries: {ISO alpha-2: {name, d, c, a}}, other: [...]}."""
    text = package_files.files("residency_audit.reporters").joinpath("world.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass
class Places:
    """What the map needs, gathered while the rows stream past: copies per country, and unknown locations."""

    home: frozenset[str]
    trusted: frozenset[str]
    stores: Counter[str] = field(default_factory=Counter)
    primary: Counter[str] = field(default_factory=Counter)
    replica: Counter[str] = field(default_factory=Counter)
    unknown: list[str] = field(default_factory=list)
    unknown_count: int = 0
    groups: dict[int, list[Any]] = field(default_factory=dict)

    def standing(self, country: str) -> str:
        """home, trusted or foreign from the viewpoint; "copy" when the report names no viewpoint."""
        if not self.home:
            return "copy"
        return "home" if country in self.home else "trusted" if country in self.trusted else "foreign"

    def add(self, r: dict[str, Any]) -> None:
        """Count one resource's copies per country, and note its copies in unknown locations."""
        # resources share their footprint and countries lists: counted per list, added up once (`fold`)
        copies, countries = r.get("footprint"), r.get("countries")
        group = self.groups.get(id(copies))
        if group is None or group[0] is not copies or group[1] is not countries:
            if not isinstance(copies, list) or any(not c.get("known", True) for c in copies):
                self._add(r)  # its unknown copies are listed by name, in order
                return
            if len(self.groups) >= 10_000:
                self.fold()
            group = self.groups[id(copies)] = [copies, countries, 0]
        group[2] += 1

    def fold(self) -> None:
        """Add up the counted groups (before the counts are read)."""
        for copies, countries, n in self.groups.values():
            self._add({"footprint": copies, "countries": countries}, n)
        self.groups.clear()

    def _add(self, r: dict[str, Any], n: int = 1) -> None:
        stores = self.stores
        for country in set(r.get("countries") or ()):
            stores[country] += n
        for c in r.get("footprint") or ():
            counter = self.primary if c.get("role") == "primary" else self.replica
            for country in set(c.get("countries") or ()):
                counter[country] += n
            if not c.get("known", True):
                self.unknown_count += 1
                if len(self.unknown) < _UNKNOWN_LISTED:
                    where = escape(str(c.get("reported_as") or c.get("location") or "(empty)"))
                    whose = f"{escape(str(r.get('provider', '')))}:<bdi>{escape(str(r.get('name', '')))}</bdi>"
                    self.unknown.append(f"unknown location {where} ({escape(str(c.get('role', '')))}) of {whose}")


_LEGEND = {
    "home": "copies at home",
    "trusted": "copies in a trusted state",
    "foreign": "copies abroad (foreign)",
    "copy": "copies (no viewpoint)",
    "homeland": "home, no copy",
}


def map_section(places: Places) -> str:
    """The map, its legend, and what it cannot show."""
    places.fold()
    data = world()
    shapes = data["countries"]
    paths, dots = [], []
    for code, shape in shapes.items():
        tip = f"{code} — {shape['name']}"
        if code in places.stores:
            css = places.standing(code)
            tip += f": {_copies(places, code)}; {css if css != 'copy' else 'copies'}"
            if shape["a"] < _SMALL_AREA:
                cx, cy = shape["c"]
                dots.append(f'<circle class="{css}" cx="{cx}" cy="{cy}" r="14"><title>{escape(tip)}</title></circle>')
        elif code in places.home:
            css, tip = "homeland", tip + ": home, no copy"
        else:
            css = "land"
        paths.append(f'<path class="{css}" d="{shape["d"]}"><title>{escape(tip)}</title></path>')
    paths += [f'<path class="land" d="{o["d"]}"><title>{escape(o["name"])}</title></path>' for o in data["other"]]
    box = " ".join(str(v) for v in data["viewBox"])
    svg = (
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="{box}" role="img" '
        'aria-label="countries holding copies, and which of them are foreign from the viewpoint">\n'
        + "\n".join(paths + dots)
        + "\n</svg>"
    )
    shown = ("copy",) if not places.home else ("home", "trusted", "foreign", "homeland")
    legend = (
        '<p class="legend">'
        + "".join(f'<span><i class="{k}"></i>{_LEGEND[k]}</span>' for k in shown)
        + "<span><i></i>no copy</span></p>"
    )
    return (
        "<section>\n<h2>Where the copies are</h2>\n"
        + "\n".join(p for p in (svg, legend, _off_map(places, shapes)) if p)
        + "\n</section>\n"
    )


def _copies(places: Places, code: str) -> str:
    return (
        f"{places.stores[code]} data store(s) ({places.primary[code]} primary cop"
        f"{'y' if places.primary[code] == 1 else 'ies'}, {places.replica[code]} replica(s))"
    )


def country_table(places: Places) -> str:
    """The map as a table too: readable in print and by screen readers, which do not show tooltips."""
    places.fold()
    if not places.stores:
        return ""
    shapes = world()["countries"]
    ordered = sorted(places.stores, key=lambda c: (-places.stores[c], c))
    rows = "\n".join(
        f"<tr><td>{escape(c)}</td><td>{escape(shapes.get(c, {}).get('name', ''))}</td><td>{places.standing(c)}</td>"
        f'<td class="num">{places.stores[c]}</td><td class="num">{places.primary[c]}</td>'
        f'<td class="num">{places.replica[c]}</td></tr>'
        for c in ordered
    )
    return (
        "<section>\n<h2>Copies by country</h2>\n<table>\n<thead><tr><th>country</th><th>name</th>"
        "<th>from the viewpoint</th><th>data stores</th><th>primary copies</th><th>replicas</th></tr></thead><tbody>\n"
        + rows
        + "\n</tbody>\n</table>\n</section>\n"
    )


def _off_map(places: Places, shapes: dict[str, Any]) -> str:
    """Countries the map cannot show, and copies whose location is unknown: listed, never dropped."""
    items = [f"<li>{escape(c)}: {_copies(places, c)}; {places.standing(c)}</li>" for c in sorted(places.stores)
             if c not in shapes]  # fmt: skip
    items += [f"<li>{text}</li>" for text in places.unknown]
    if places.unknown_count > len(places.unknown):
        more = places.unknown_count - len(places.unknown)
        items.append(f"<li>and {more} more unknown location(s): filter the data stores by country “unknown”</li>")
    if not items:
        return ""
    return "<p>Not on the map:</p>\n<ul>\n" + "\n".join(items) + "\n</ul>"
