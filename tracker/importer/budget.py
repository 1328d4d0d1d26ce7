"""The time budget of one import, shared by every stage from reading the bytes to assembling tasks.

A hostile or merely enormous document must not hold a worker: each stage checks the budget between
pages, blocks or outline nodes and stops with a clear message once it is spent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from tracker.importer import errors


class Deadline:
    """A wall-clock budget checked between pages so a hostile file cannot hold a worker."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left in the budget (0 once spent)."""
        return max(0.0, self._end - time.monotonic())

    def check(self) -> None:
        """Raise DocumentError("too_slow") once the budget is spent."""
        if time.monotonic() > self._end:
            raise errors.too_slow(self.seconds)


_current: ContextVar[Deadline | None] = ContextVar("import_deadline", default=None)


@contextmanager
def within(deadline: Deadline) -> Iterator[Deadline]:
    """Make `deadline` the budget that `checkpoint()` checks for the duration of one import."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def checkpoint() -> None:
    """Stop the import with DocumentError("too_slow") once its budget is spent (no-op outside an import).

    Stages call this inside their loops over blocks, outline nodes and table rows, so that no stage can
    run past the budget however large or hostile the document.
    """
    deadline = _current.get()
    if deadline is not None:
        deadline.check()


#: Told how far an import has got: (phase, pages done, pages in all); "reading", "ocr", "extracting".
ProgressCallback = Callable[[str, int, int], None]
_progress: ContextVar[ProgressCallback | None] = ContextVar("import_progress", default=None)


@contextmanager
def reporting_progress(callback: ProgressCallback) -> Iterator[None]:
    """Have the readers tell `callback` each page they finish (the import worker shows it to the uploader).

    The callback may raise to stop the import (a worker shutting down, a job taken over): readers call
    it between pages, where stopping leaves nothing half done.
    """
    token = _progress.set(callback)
    try:
        yield
    finally:
        _progress.reset(token)


def progress(phase: str, done: int, total: int) -> None:
    """Report that `done` of `total` pages have been read in `phase` (no-op when nobody listens)."""
    callback = _progress.get()
    if callback is not None:
        callback(phase, done, total)
