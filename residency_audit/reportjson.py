"""The JSON a saved report may be, the same for both of its readers (reportlayouts.py): RFC 8259 text in UTF-8.

The own-layout reader parses with Python's json, the general reader with ijson (yajl). Python's json alone would
also take what yajl refuses: NaN and Infinity, UTF-8-encoded surrogates (json.loads(bytes) decodes them with
'surrogatepass'), integers outside 64 bits and numbers that overflow a double. Whatever one reader refuses, the other
must refuse too, or the same report in two layouts gets two verdicts; and a lone surrogate, escaped or not, is not
text at all.
"""

from __future__ import annotations

import json
import mmap
import re
from pathlib import Path
from typing import Any

from .reportfile import ReportError

_INT64 = 1 << 63


def loads(text: bytes) -> Any:
    """One JSON value as both readers accept it; ValueError (or RecursionError) if not."""
    return _STRICT.decode(text.decode())


def loads_head(text: bytes) -> Any:
    """As `loads`, and an object with the same key twice is refused (which value is meant is not defined)."""
    return _HEAD.decode(text.decode())


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _int(text: str) -> int:
    value = int(text)
    if not -_INT64 <= value < _INT64:
        raise ValueError(f"integer {text[:20]}… out of range")  # yajl: "integer overflow"
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} overflows")  # yajl: "numeric (floating point) overflow"
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError(f"{next(k for i, (k, _) in enumerate(pairs) if k in dict(pairs[:i]))!r} appears twice")
    return out


_STRICT = json.JSONDecoder(parse_constant=_not_json, parse_int=_int, parse_float=_float)
_HEAD = json.JSONDecoder(parse_constant=_not_json, parse_int=_int, parse_float=_float, object_pairs_hook=_no_duplicates)

# a \\uXXXX escape of a surrogate, paired or not; `\\.` first consumes every other escape (so `\\\\ud800` is text)
_ESCAPES = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})|\\."
)


def lone_surrogates(path: Path, shown: str) -> None:
    """Refuse a lone surrogate escape (backslash-u D800 to DFFF, unpaired): ijson would read it as `?`."""
    if path.stat().st_size == 0:
        return
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data.find(b"\\u") < 0:
            return
        for match in _ESCAPES.finditer(data):
            if match.group(1):
                raise ReportError(
                    f"{shown}: a lone UTF-16 surrogate escape ({match.group(1).decode()}) at byte {match.start()} "
                    "is not text: give the report as the scan wrote it"
                )
