"""Where a report goes: stdout, or `--output`, written so that no reader ever sees half a file.

A regular file (or a new one, or one a symlink points at) is written to a hidden temporary file beside it and
renamed over it; the temporary file is removed if anything stops the write, Ctrl-C and SIGTERM included.
Anything else (`/dev/stdout`, `/dev/null`, a FIFO, a terminal) is written through, never replaced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO


class Terminated(BaseException):
    """SIGTERM arrived while a report was being written."""


def write_output(output: Path | None, write: Callable[[IO[str]], None]) -> None:
    """Call `write` with a text stream for `output` (stdout when None)."""
    if output is None:
        write(sys.stdout)
        sys.stdout.flush()
        return
    target = Path(os.path.realpath(output.expanduser()))  # through symlinks: the link stays, its target changes
    try:
        mode: int | None = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "w", encoding="utf-8") as fh:  # a FIFO, a device: its reader gets the data
            write(fh)
        return
    with _on_sigterm():
        _atomic(target, write)


def _atomic(path: Path, write: Callable[[IO[str]], None]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); a report is an ordinary file, so honour the umask like open() does
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into an exception while writing, so the temporary file is removed as on Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
