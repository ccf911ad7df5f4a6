"""Blinding spread over processes: libsodium holds the GIL, so threads would not help.

Each worker gets a few large chunks (``CHUNKS_PER_WORKER`` each) and answers one bytes buffer per chunk, so
what crosses the process boundary is a handful of pickles, not a million small objects. Chunks keep their
order, so the output is the same bytes whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import TypeVar

from hongmao.cleanroom import group
from hongmao.errors import ContractError

T = TypeVar("T")
MIN_CHUNK = 20_000  # below this a pool costs more than it saves
CHUNKS_PER_WORKER = 4  # a few per worker, so one slow chunk does not leave a core idle at the end


def _hash_blind(args: tuple[Sequence[str], bytes]) -> bytes:
    return group.hash_and_blind_buffer(args[0], args[1])


def _blind(args: tuple[bytes, bytes]) -> bytes:
    return group.blind_buffer(args[0], args[1])


def _spread(fn: Callable[[tuple[T, bytes]], bytes], chunks: list[T], scalar: bytes, workers: int) -> bytes:
    # spawn: no fork of a process that may hold threads (engine pools) or locks.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return b"".join(pool.map(fn, [(c, scalar) for c in chunks], chunksize=1))


def _bounds(n: int, workers: int) -> list[tuple[int, int]]:
    size = max(MIN_CHUNK, -(-n // (workers * CHUNKS_PER_WORKER)))
    return [(i, min(n, i + size)) for i in range(0, n, size)]


def hash_and_blind(identifiers: Sequence[str], scalar: bytes, workers: int = 1) -> bytes:
    """``H(x)^scalar`` of each normalised identifier, concatenated 32-byte values in input order."""
    if workers <= 1 or len(identifiers) <= MIN_CHUNK:
        return group.hash_and_blind_buffer(identifiers, scalar)
    chunks = [identifiers[a:b] for a, b in _bounds(len(identifiers), workers)]
    return _spread(_hash_blind, chunks, scalar, workers)


def blind(points: bytes, scalar: bytes, workers: int = 1) -> bytes:
    """Each 32-byte point of the buffer raised to ``scalar``, concatenated in order.

    A bad value deep in a chunk is reported by its position in the whole buffer, not in its chunk."""
    n = len(points) // group.POINT_BYTES
    if workers <= 1 or n <= MIN_CHUNK:
        return group.blind_buffer(points, scalar)
    step = group.POINT_BYTES
    bounds = _bounds(n, workers)
    try:
        return _spread(_blind, [points[a * step : b * step] for a, b in bounds], scalar, workers)
    except ContractError:
        return group.blind_buffer(points, scalar)  # re-run in order to name the first bad value overall
