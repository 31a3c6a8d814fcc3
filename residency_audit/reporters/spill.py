"""Rows sorted on disk for the formats that order every resource (CSV, JUnit): memory bounded by one run.

Rows gather in runs of RUN, each sorted (in C) and spilled to a temporary file with pickle; reading merges the
runs. Cheaper than an SQLite table: no B-tree, no SQL, and a run is written and read in blocks, not row by row.
"""

from __future__ import annotations

import codecs
import heapq
import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any

RUN = 20_000  # rows sorted in memory at a time
_BLOCK = 1_000  # rows per pickled record: one record in memory per run while merging


class Sorted:
    """Rows added in any order, read back in key order (rows with equal keys in the order they were added)."""

    def __init__(self) -> None:
        self.buffer: list[tuple[Any, int, Any]] = []
        self.runs: list[IO[bytes]] = []
        self.seq = 0

    def add(self, key: Any, row: Any) -> None:
        """One row under its key."""
        self.buffer.append((key, self.seq, row))
        self.seq += 1
        if len(self.buffer) >= RUN:
            self._spill()

    def _spill(self) -> None:
        rows = self.buffer
        rows.sort()  # (key, seq, row): seq is unique, so rows themselves are never compared
        run = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.runs.append(run)
        for i in range(0, len(rows), _BLOCK):
            pickle.dump(rows[i : i + _BLOCK], run, pickle.HIGHEST_PROTOCOL)
        run.seek(0)
        self.buffer = []

    def __iter__(self) -> Iterator[Any]:
        """Every row, in key order (each run read once: iterate once)."""
        if not self.runs:
            self.buffer.sort()
            return (row for _, _, row in self.buffer)
        if self.buffer:
            self._spill()
        return (row for _, _, row in heapq.merge(*(_read(run) for run in self.runs)))

    def keyed(self) -> Iterator[tuple[Any, Any]]:
        """Every (key, row), in key order (each run read once: iterate once)."""
        if not self.runs:
            self.buffer.sort()
            return ((key, row) for key, _, row in self.buffer)
        if self.buffer:
            self._spill()
        return ((key, row) for key, _, row in heapq.merge(*(_read(run) for run in self.runs)))

    def rewind(self) -> None:
        """Read the rows again from the start (after iterating them once)."""
        for run in self.runs:
            run.seek(0)

    def close(self) -> None:
        """Remove the spilled runs."""
        for run in self.runs:
            run.close()
        self.runs = []
        self.buffer = []


def _read(run: IO[bytes]) -> Iterator[tuple[Any, int, Any]]:
    while True:
        try:
            block = pickle.load(run)
        except EOFError:
            return
        yield from block


def text_key(*parts: str) -> str:
    r"""Strings as one string that sorts as their tuple does (one C comparison instead of a tuple's several).

    Each part ends with \x00, the smallest character; a \x00 or \x01 inside a part is escaped (\x01\x01,
    \x01\x02), which keeps the order.
    """
    key = "\x00".join(parts) + "\x00"
    if key.count("\x00") != len(parts) or "\x01" in key:
        key = "".join(p.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01") + "\x00" for p in parts)
    return key


class Seen:
    """Whether a key may have been seen before: a fixed-size Bloom filter (4 MB, three probes), so memory stays flat.

    "No" is certain; "maybe" is wrong for under one key in a million at 100,000 keys (one in a thousand at a
    million), which only costs the caller work it did not need.
    """

    _BITS = 1 << 25

    def __init__(self) -> None:
        self.bits = bytearray(self._BITS // 8)

    def add(self, key: object) -> bool:
        """Note `key`; True when it may have been noted before."""
        h = hash(key) & 0xFFFFFFFFFFFFFFFF
        bits = self.bits
        i, j, k = h & 0x1FFFFFF, (h >> 25) & 0x1FFFFFF, h >> 39  # three probes of 25 bits each
        a, b, c = 1 << (i & 7), 1 << (j & 7), 1 << (k & 7)
        i, j, k = i >> 3, j >> 3, k >> 3
        if bits[i] & a and bits[j] & b and bits[k] & c:
            return True
        bits[i] |= a
        bits[j] |= b
        bits[k] |= c
        return False


class TextSpool:
    """Text spooled to a temporary file in batches, read back in chunks (HTML's rows).

    A read-write TextIOWrapper resets its decoder on every write, a Python call per row; rows joined and
    encoded a thousand at a time cost one.
    """

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.pending: list[str] = []

    def write(self, text: str) -> None:
        """Append text."""
        self.pending.append(text)
        if len(self.pending) >= 1000:
            self._flush()

    def _flush(self) -> None:
        self.file.write("".join(self.pending).encode("utf-8"))
        self.pending.clear()

    def chunks(self) -> Iterator[str]:
        """Everything written, from the start, in chunks of about a megabyte."""
        self._flush()
        self.file.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()  # a chunk may end inside a character
        while chunk := self.file.read(1 << 20):
            yield decoder.decode(chunk)
        if tail := decoder.decode(b"", final=True):
            yield tail  # pragma: no cover - what was encoded whole decodes whole

    def close(self) -> None:
        """Remove the file."""
        self.file.close()
