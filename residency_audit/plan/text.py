"""Bytes → the JSON value in a `terraform show -json` file, whatever encoding it landed in; refused in one line if not.

A binary `tfplan`, an empty file, text that is not UTF-8, UTF-8 with a BOM or UTF-16/32 (with a BOM, or without one
as RFC 4627 §3 detects: Windows PowerShell's `>` writes UTF-16 LE with a BOM), invalid JSON, JSON nested deeper than
MAX_DEPTH, a lone surrogate: each is a PlanError naming the file and the position or field, and the fix.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HINT = "run `terraform plan -out=tfplan && terraform show -json tfplan > plan.json` and pass that file"
MAX_DEPTH = 200  # a real plan nests ~40 deep; the reader and Python's repr recurse, so bound it well below 1000

_ZIP = b"PK\x03\x04"
_BOMS = (  # longest first: a UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: twice as fast as an alternation
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_PAIR = re.compile(r"\[\]|\{\}")  # one pass removes one level: the scan does not revisit what it joined


class PlanError(ValueError):
    """The input is not a Terraform JSON plan this version reads: names the file, the field and the fix."""


def parse(raw: bytes, name: str) -> Any:
    """The JSON value in `raw` (any encoding `terraform show -json > file` leaves on any system)."""
    if raw.startswith(_ZIP):
        raise PlanError(
            f"{name}: this is a binary plan file (what `terraform plan -out` writes), not its JSON form; run "
            f"`terraform show -json {Path(name).name} > plan.json` and pass plan.json"
        )
    text = _decode(raw, name)
    if not text.strip():
        raise PlanError(f"{name}: the file is empty; {HINT}")
    value = _loads(text, name)
    _check_depth(text, value, name)
    if _SURROGATE_ESCAPE.search(text):
        _check_surrogates(value, name)
    return value


def _decode(raw: bytes, name: str) -> str:
    encoding, label, start = _encoding(raw)
    try:
        return raw[start:].decode(encoding)
    except UnicodeDecodeError as exc:
        at = start + exc.start
        if exc.reason in ("truncated data", "unexpected end of data"):
            raise PlanError(
                f"{name}: {label} text that ends inside a character at byte {at} (truncated?); {HINT}"
            ) from exc
        line = raw[:at].count(b"\n") + 1 if label == "UTF-8" else None
        where = f"line {line}, byte {at}" if line else f"byte {at}"
        raise PlanError(
            f"{name}: not {label} text: invalid bytes at {where} ({raw[at : at + 4].hex(' ')}); save the plan as "
            f"UTF-8 or {HINT}"
        ) from exc


def _encoding(raw: bytes) -> tuple[str, str, int]:
    """The codec, its name for messages, and where the text starts: the BOM, else the NULs of RFC 4627 §3."""
    for bom, codec, label in _BOMS:
        if raw.startswith(bom):
            return codec, label, len(bom)
    head = raw[:4]
    if len(head) == 4:
        pattern = tuple(b == 0 for b in head)
        guesses = {
            (True, True, True, False): ("utf-32-be", "UTF-32 BE"),
            (False, True, True, True): ("utf-32-le", "UTF-32 LE"),
            (True, False, True, False): ("utf-16-be", "UTF-16 BE"),
            (False, True, False, True): ("utf-16-le", "UTF-16 LE"),
        }
        if pattern in guesses:
            codec, label = guesses[pattern]
            return codec, label, 0
    return "utf-8", "UTF-8", 0


def _loads(text: str, name: str) -> Any:
    def refuse_constant(word: str) -> Any:
        raise ValueError(f"{word} is not a JSON value")

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{name}: not valid JSON: {_explain(exc, text)}; {HINT}") from exc
    except RecursionError as exc:
        raise _too_deep(name, _deep_position(text)) from exc
    except ValueError as exc:  # NaN/Infinity, or an integer longer than Python converts
        problem = "a number with more digits than any plan holds" if "integer string" in str(exc) else str(exc)
        raise PlanError(f"{name}: not valid JSON: {problem}; {HINT}") from exc


_MESSAGES = {
    "Expecting value": "expected a value",
    "Expecting property name enclosed in double quotes": "expected a property name in double quotes",
    "Expecting ':' delimiter": "expected ':' after a property name",
    "Expecting ',' delimiter": "expected ',' or a closing bracket",
    "Invalid control character at": "a control character inside a string (it must be escaped)",
    "Invalid \\escape": "an invalid escape sequence",
    "Invalid \\uXXXX escape": "an invalid \\u escape",
    "Extra data": "more data after the end of the JSON document",
}


def _explain(exc: json.JSONDecodeError, text: str) -> str:
    what = _MESSAGES.get(exc.msg, exc.msg.removesuffix(" at"))
    if exc.msg.startswith("Unterminated string"):  # no closing quote up to the end of the file
        return f"it ends inside a string that starts at line {exc.lineno} column {exc.colno} (truncated?)"
    if exc.pos >= len(text.rstrip()) and exc.msg != "Extra data":
        return f"it ends at line {exc.lineno} column {exc.colno} before the document is complete (truncated?)"
    return f"{what} at line {exc.lineno} column {exc.colno}"


# --- nesting depth and lone surrogates -------------------------------------------------------------------------


def _check_depth(text: str, value: Any, name: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, naming where; fast for the shallow plans Terraform writes."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(MAX_DEPTH):
        if not brackets:
            return
        shorter = _PAIR.sub("", brackets)
        if shorter == brackets:
            return  # unbalanced cannot happen after a successful parse; never loop on it
        brackets = shorter
    if brackets:
        raise _too_deep(name, _deep_path(value))


def _too_deep(name: str, where: str) -> PlanError:
    return PlanError(f"{name}: {where}: nested more than {MAX_DEPTH} levels deep, which no Terraform plan is; {HINT}")


def _walk(value: Any) -> Iterator[tuple[Any, tuple[str | int, ...]]]:
    """Every value with its path, depth first, without recursion."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, at = stack.pop()
        yield node, at
        if isinstance(node, dict):
            stack.extend((v, (*at, k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, (*at, i)) for i, v in reversed(list(enumerate(node))))


def _deep_path(value: Any) -> str:
    for node, at in _walk(value):
        if len(at) >= MAX_DEPTH and isinstance(node, dict | list):  # a container at level MAX_DEPTH + 1
            return where(at[:8]) + ".…"
    return "top level"


def _deep_position(text: str) -> str:
    depth = 0
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text, re.DOTALL):
        token = match.group()
        depth += 1 if token in "[{" else -1 if token in "]}" else 0
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            return f"line {line} column {match.start() - text.rfind(chr(10), 0, match.start())}"
    return "top level"


def _check_surrogates(value: Any, name: str) -> None:
    for node, at in _walk(value):
        texts = [node] if isinstance(node, str) else list(node) if isinstance(node, dict) else []
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise PlanError(
                    f"{name}: {where(at)}: a lone UTF-16 surrogate ({text[exc.start]!r}), which is not text; {HINT}"
                ) from exc


def where(at: tuple[str | int, ...]) -> str:
    """A JSON path as the messages write it: planned_values.root_module.resources[0].address."""
    out = ""
    for step in at:
        out += f"[{step}]" if isinstance(step, int) else f".{step}" if out else str(step)
    return out or "top level"
