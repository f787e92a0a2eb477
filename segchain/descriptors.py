"""Descriptor 1 pointed elsewhere while work runs, so that what a library prints to C's or
Python's stdout cannot reach a table written there (``-o -``): the tables are written after the
work. One mechanism for the stage's work (to stderr: ``cli.progress.stdout_to_stderr``) and for
HiGHS's own debugging lines (to the null device: ``network.model``)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


def _point_1_at(fd: int | None) -> None:
    """Descriptor 1 on ``fd``, or on the null device (``None``, or ``fd`` unusable)."""
    if fd is not None:
        try:
            os.dup2(fd, 1)
            return
        except OSError:  # no such descriptor either: printed nowhere
            pass
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
    finally:
        os.close(null)


@contextlib.contextmanager
def stdout_on(fd: int | None) -> Iterator[None]:
    """Descriptor 1 on ``fd`` (None: the null device) inside the block, restored after it.
    Python's stdout buffer is flushed on the way in and out, so that what it held goes where
    descriptor 1 pointed when it was printed. A process without descriptor 1 (a closed stdout)
    runs the block as it is."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
        saved = os.dup(1)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        _point_1_at(fd)
        yield
    finally:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if sys.stdout is not None:
                sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
