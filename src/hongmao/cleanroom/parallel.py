"""Blinding spread over processes: libsodium holds the GIL, so threads would not help.

Chunks keep their order, so the output is the same bytes whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import TypeVar

from hongmao.cleanroom import group

T = TypeVar("T")
CHUNK = 20_000


def _hash_blind(args: tuple[Sequence[str], bytes]) -> list[bytes]:
    return group.hash_and_blind(args[0], args[1])


def _blind(args: tuple[Sequence[bytes], bytes]) -> list[bytes]:
    return group.blind(args[0], args[1])


def _run(
    fn: Callable[[tuple[Sequence[T], bytes]], list[bytes]], items: Sequence[T], scalar: bytes, workers: int
) -> list[bytes]:
    if workers <= 1 or len(items) <= CHUNK:
        return fn((items, scalar))
    chunks = [(items[i : i + CHUNK], scalar) for i in range(0, len(items), CHUNK)]
    # spawn: no fork of a process that may hold threads (engine pools) or locks.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        parts = pool.map(fn, chunks)
    return [p for part in parts for p in part]


def hash_and_blind(identifiers: Sequence[str], scalar: bytes, workers: int = 1) -> list[bytes]:
    return _run(_hash_blind, identifiers, scalar, workers)


def blind(points: Sequence[bytes], scalar: bytes, workers: int = 1) -> list[bytes]:
    return _run(_blind, points, scalar, workers)
