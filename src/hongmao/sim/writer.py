"""Streaming events to JSONL files, one day at a time, each file in time order.

A day's events arrive as *blocks*: columns already sorted by time plus a function that prints rows ``lo:hi``
as envelopes. The sink cuts the day into time windows of about :data:`WINDOW_ROWS` rows, prints each block's
slice of a window, merges the slices by time and appends them to the file, so at most one window of text is
ever in memory. Rows that fall after the day (a purchase just after midnight) are carried to the next day,
so every file is in time order. Rare events (orders,
searches, publications) are collected as small tuples and become one more block when the day is flushed.

Event ids are ``<side letter><counter>`` (``c`` community, ``l`` links, ``m`` market, ``b`` brand): unique in
the world and cheap to print.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray

from hongmao.sim.clock import DAY, Clock

#: (id prefix, id start, lo, hi, printed times of rows lo:hi) -> the printed envelopes of rows lo:hi.
Render = Callable[[str, int, int, int, list[str]], list[str]]

#: (time, type, source, data as JSON text)
SmallEvent = tuple[int, str, str, str]

FILES: dict[str, str] = {"brand": "b", "community": "c", "links": "l", "market": "m"}
WINDOW_ROWS = 8_192  # rows printed at once: bounds the text held in memory whatever the world's size


def dumps(data: Mapping[str, object]) -> str:
    """An event's ``data`` as the compact JSON text :meth:`EventSink.emit` takes."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def head(event_type: str, source: str) -> str:
    """The envelope text between the id and the time: ``","type":...,"time":"``."""
    return f'","type":"{event_type}","source":"{source}","time":"'


class Block:
    """Rows ``start:`` of time-sorted columns; rows after the day being flushed carry over to the next day."""

    __slots__ = ("render", "start", "t")

    def __init__(self, t: NDArray[np.int64], render: Render, start: int = 0) -> None:
        self.t = t
        self.render = render
        self.start = start


def _small_block(events: list[SmallEvent]) -> Block:
    events.sort(key=lambda e: e[0])  # stable: equal times keep the order they were emitted in
    t = np.fromiter((e[0] for e in events), dtype=np.int64, count=len(events))

    def render(pre: str, first: int, lo: int, hi: int, times: list[str]) -> list[str]:
        return [
            f'{{"id":"{pre}{i}","type":"{ty}","source":"{src}","time":"{ts}","data":{data}}}'
            for i, ts, (_, ty, src, data) in zip(range(first, first + hi - lo), times, events[lo:hi], strict=True)
        ]

    return Block(t, render)


class EventSink:
    """Collects one day of events per file and writes them in time order."""

    def __init__(self, events_dir: Path, clock: Clock, shard_by_day: bool = False) -> None:
        self.dir = events_dir
        self.clock = clock
        self.shard_by_day = shard_by_day
        self.counts: Counter[str] = Counter()
        self.files: list[Path] = []
        self._next_id = dict.fromkeys(FILES, 0)
        self._blocks: dict[str, list[Block]] = {f: [] for f in FILES}
        self._small: dict[str, list[SmallEvent]] = {f: [] for f in FILES}
        self._handles: dict[str, IO[str]] = {}
        events_dir.mkdir(parents=True, exist_ok=True)

    # -- collecting ------------------------------------------------------------------------------------------
    def emit(self, file: str, t: int, event_type: str, source: str, data: str) -> None:
        """Queue one event whose ``data`` is already JSON text."""
        self._small[file].append((t, event_type, source, data))
        self.counts[event_type] += 1

    def add_block(
        self,
        file: str,
        event_type: str | None,
        t: NDArray[np.int64],
        render: Render,
        counts: Counter[str] | None = None,
    ) -> None:
        """Queue rows sorted by ``t``; ``event_type`` (one type for all rows) or ``counts`` feed the tally."""
        if len(t) == 0:
            return
        if event_type is not None:
            self.counts[event_type] += len(t)
        if counts is not None:
            self.counts.update(counts)
        self._blocks[file].append(Block(t, render))

    # -- writing ---------------------------------------------------------------------------------------------
    def _handle(self, file: str, day: int) -> IO[str]:
        key = f"{file}/{day}" if self.shard_by_day else file
        fh = self._handles.get(key)
        if fh is None:
            if self.shard_by_day:
                path = self.dir / file / f"{self.clock.date_text(day)}.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
            else:
                path = self.dir / f"{file}.jsonl"
            fh = path.open("w", encoding="utf-8", newline="\n", buffering=1 << 20)
            self._handles[key] = fh
            self.files.append(path)
        return fh

    def flush(self, day: int, final: bool = False) -> None:
        """Write everything queued that happens on ``day``. Later rows, such as an order placed just after
        midnight, wait for the next day so every file stays in time order; ``final`` writes them too."""
        for file in FILES:
            if self._small[file]:
                self._blocks[file].append(_small_block(self._small[file]))
                self._small[file] = []
        while True:
            for file, prefix in FILES.items():
                blocks = self._blocks[file]
                self._blocks[file] = self._write(file, prefix, day, blocks, (day + 1) * DAY) if blocks else []
            if self.shard_by_day:
                for key in [k for k in self._handles if k.endswith(f"/{day}")]:
                    self._handles.pop(key).close()
            if not final or not any(self._blocks.values()):
                return
            day += 1

    def _write(self, file: str, prefix: str, day: int, blocks: list[Block], end: int) -> list[Block]:
        """Write the rows of ``blocks`` before ``end``; return blocks of the rows left for later."""
        ends = [int(np.searchsorted(b.t, end, side="left")) for b in blocks]
        now = [b.t[b.start : e] for b, e in zip(blocks, ends, strict=True)]
        every = np.sort(np.concatenate(now), kind="stable")
        if len(every):
            bounds = np.unique(every[WINDOW_ROWS::WINDOW_ROWS]).tolist()
            cuts = [
                [b.start, *(b.start + np.searchsorted(t, bounds, side="left")).tolist(), e]
                for b, t, e in zip(blocks, now, ends, strict=True)
            ]
            fh = self._handle(file, day)
            for w in range(len(bounds) + 1):
                self._write_window(fh, file, prefix, blocks, [(c[w], c[w + 1]) for c in cuts])
        return [Block(b.t, b.render, e) for b, e in zip(blocks, ends, strict=True) if e < len(b.t)]

    def _write_window(
        self, fh: IO[str], file: str, prefix: str, blocks: list[Block], spans: list[tuple[int, int]]
    ) -> None:
        lines: list[str] = []
        times: list[NDArray[np.int64]] = []
        for block, (lo, hi) in zip(blocks, spans, strict=True):
            if hi <= lo:
                continue
            t = block.t[lo:hi]
            first = self._next_id[file]
            self._next_id[file] = first + (hi - lo)
            lines.extend(block.render(prefix, first, lo, hi, self.clock.texts(t)))
            times.append(t)
        if not lines:
            return
        if len(times) > 1:
            order = np.argsort(np.concatenate(times), kind="stable").tolist()
            lines = [lines[i] for i in order]
        fh.write("\n".join(lines))
        fh.write("\n")

    def close(self) -> None:
        for fh in self._handles.values():
            fh.close()
        self._handles.clear()
