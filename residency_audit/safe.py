r"""Hostile text made harmless for each output: names, tags and labels are chosen by whoever creates a resource.

One small module every renderer calls, so that each format escapes the same way: the terminal and plain text
(`visible`), CSV (`csv_cell`), Markdown (`md_cell`) and XML (`xml_text`). HTML escaping lives with the HTML
reporter (html.escape). Each function prints the value literally: nothing is dropped, control characters are
shown as escapes (`\x1b`), never interpreted.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

    from .model import Resource

# C0 and C1 controls, DEL, Unicode format characters that reorder or hide text (bidi overrides, zero-width),
# line and paragraph separators, and lone surrogates: none may reach a terminal or a one-line field as is
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff"
    "\ufff9-\ufffb\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str) -> str:
    r"""`text` on one line, with every control or invisible formatting character written as an escape (`\x1b`)."""
    return _INVISIBLE.sub(_escape, text)


def terminal(value: object) -> Text:
    """A value for a Rich table cell: literal text (no markup, no escapes reach the terminal)."""
    from rich.text import Text

    return Text(visible(str(value)))


# OWASP "CSV Injection": a cell starting with one of these is a formula to a spreadsheet; a leading apostrophe
# makes it text (https://owasp.org/www-community/attacks/CSV_Injection)
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: object) -> str:
    """A CSV field that a spreadsheet shows as text, never evaluates: `'` before a leading = + - @ tab or CR."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


# what GitHub Markdown would turn into a mention, an autolink, emphasis or strikethrough even when escaped with
# backslashes: such text goes into a code span, where GitHub resolves none of them
_MD_SPAN = re.compile(r"@|://|www\.|~|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_ESCAPES = (("\\", "\\\\"), ("|", "\\|"), ("*", "\\*"), ("`", "\\`"), ("[", "\\["), ("]", "\\]"))


def md_cell(value: object) -> str:
    """Text made literal in one Markdown table cell (GitHub-flavoured, as in a pull-request comment).

    Links, images, emphasis, code and HTML are escaped (backslashes, entities); text holding what escapes cannot
    stop (a mention, an autolink, `_emphasis_`, `~strikethrough~`) becomes a code span, inside which GitHub
    resolves none of them. Pipes stay escaped, as a table cell needs.
    """
    text = visible(" ".join(str(value if value is not None else "").split()))
    if not _MD_SPAN.search(text):
        for char, escaped in _MD_ESCAPES:
            text = text.replace(char, escaped)
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


# characters XML 1.0 cannot hold at all, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    r"""Text an XML 1.0 document can hold: the characters it forbids written as escapes (`\x1b`)."""
    return _NOT_XML.sub(_escape, "" if value is None else str(value))


def relative(path: str) -> str:
    """An absolute path relative to the working directory (reports must not publish a home directory's name)."""
    import os

    if not os.path.isabs(path):
        return path
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows): nothing relative exists
        return path


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(text: str) -> str:
    r"""`text` as UTF-8 can hold it: a surrogate code point becomes its escape (`\udc80`) as visible text.

    A JSON API may send a lone surrogate in a tag or a name; every format can then write it, literally.
    """
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def scrubbed(r: Resource) -> Resource:
    """A resource from a cloud API whose every text UTF-8 can hold (the same object when nothing needs it)."""
    texts = [r.account, r.service, r.type, r.id, r.name, r.classification or "", r.key_note or ""]
    texts += [t for c in r.footprint for t in (c.code, c.note or "")]
    texts += [t for item in r.tags.items() for t in item]
    if all(utf8(t) is t for t in texts):
        return r
    footprint = tuple(dataclasses.replace(c, code=utf8(c.code), note=_opt(c.note)) for c in r.footprint)
    return r.evolve(account=utf8(r.account), service=utf8(r.service), type=utf8(r.type), id=utf8(r.id),
                    name=utf8(r.name), classification=_opt(r.classification), key_note=_opt(r.key_note),
                    footprint=footprint, tags={utf8(k): utf8(v) for k, v in r.tags.items()})  # fmt: skip


def _opt(text: str | None) -> str | None:
    return None if text is None else utf8(text)
