"""Streaming access to the XML parts of a .docx: WordprocessingML names and a bounded event stream.

The parts are parsed incrementally (lxml's pull parser, fed 64 KB at a time) so that no part is ever
held whole in memory. The consumer clears each element it is done with and calls `progress()`; an
element that swallows more than `fuse` bytes of XML without one is refused, because until it closes
lxml holds its whole subtree. The time budget is checked between chunks.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Any

from lxml import etree

from tracker.importer import errors
from tracker.importer.budget import Deadline

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CHUNK = 64 * 1024


def w(name: str) -> str:
    """Return the Clark name of a WordprocessingML element or attribute ("p" -> "{...main}p")."""
    return f"{{{_W_NS}}}{name}"


VAL = w("val")


class XmlStream:
    """Parse one zip member incrementally, yielding (event, element) for the requested tags only."""

    def __init__(
        self,
        source: IO[bytes],
        events: tuple[str, ...],
        tags: Iterable[str],
        deadline: Deadline,
        fuse: int,
    ) -> None:
        self._source = source
        self._events = events
        self._tags = list(tags)
        self._deadline = deadline
        self._fuse = fuse
        self._fed = 0
        self._mark = 0

    def progress(self) -> None:
        """Note that everything parsed so far has been consumed and cleared."""
        self._mark = self._fed

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        parser = etree.XMLPullParser(
            events=self._events,
            tag=self._tags,
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            remove_comments=True,
            remove_pis=True,
        )
        while True:
            self._deadline.check()
            chunk = self._read()
            if not chunk:
                break
            self._fed += len(chunk)
            self._feed(parser, chunk)
            yield from parser.read_events()
            if self._fed - self._mark > self._fuse:
                raise errors.oversized_element(self._fuse)
        self._feed(parser, None)
        yield from parser.read_events()

    def _read(self) -> bytes:
        try:
            return self._source.read(_CHUNK)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise errors.corrupt("docx", repr(exc)) from exc

    @staticmethod
    def _feed(parser: Any, chunk: bytes | None) -> None:
        try:
            if chunk is None:
                parser.close()
            else:
                parser.feed(chunk)
        except etree.XMLSyntaxError as exc:
            if "depth" in str(exc).lower():
                raise errors.nested_too_deep() from exc
            raise errors.corrupt("docx", str(exc)) from exc


def drop_done(element: Any) -> None:
    """Free a consumed element: empty it and detach the consumed siblings before it.

    The first child of the parent is kept: it holds the parent's properties (w:pPr, w:tcPr, w:trPr,
    w:tblPr) when it has any, which are read after their children are done.
    """
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is None:
        return
    previous = element.getprevious()
    while previous is not None and previous.getprevious() is not None:
        parent.remove(previous)
        previous = element.getprevious()
