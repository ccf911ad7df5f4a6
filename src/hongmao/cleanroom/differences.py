"""Difference checks: two overlapping date ranges must not isolate fewer than k people by subtraction.

Without a differential-privacy budget a brand key's answers are exact above the k-threshold, so a brand could ask
1-30 June and 1-29 June and subtract: what differs rests on the people of 30 June alone, who may be one. As Ads
Data Hub's difference checks do, an answer is compared with the brand's earlier answers of the same report and
filters over other, overlapping ranges, and a figure is withheld when what separates the two rests on fewer than
k people (and more than none):

* a count of people is withheld when it differs from the same count of an earlier overlapping answer by fewer
  than k (:func:`close_counts`); the counts answered are kept for that;
* a sum (GMV, orders, a row's credit) changes only through the people with orders in the days one range has and
  the other lacks (:func:`gaps`), so it is withheld when those people are fewer than k. The caller counts them
  from the lake (per attribution key: its buyers over those days; for totals: the most buyers on any of those
  days, a lower bound of the distinct ones, so the check errs towards withholding).

The ranges (and counts) answered are kept per brand in ``answered.jsonl`` beside the audit log, one JSON line per
answer: time, brand, report, the family (a digest of the report's parameters other than the range), the days and
the counts of people and the figures shown (a figure withheld gives nothing to subtract from). Never an
identifier of a person. Append-only (mode 0600) under an exclusive ``flock``.

Answers over the same range on two versions of the lake (data that arrived late) are compared too when the caller
names the version: their counts of people must differ by 0 or by k or more. A sum over the same range that moved
only through late data is not checked (the people whose data arrived late are not counted), nor are answers that
differ by their filters rather than their days.

Reading: each process keeps what it has read of the file and, per request, reads only the lines appended since
(the file only grows; a file replaced or cut short is read again from its start), so a check costs the new lines
and the brand's own family, not the whole history.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

FILE = "answered.jsonl"
#: The days an answer over the whole lake (no range) stands for.
ALL_DAYS = (date(2000, 1, 1), date(2099, 12, 31))
_lock = threading.Lock()

Days = tuple[date, date]


@dataclass(frozen=True)
class Answered:
    """An earlier answer: its days (both inclusive), the counts of people it showed and the figures (groups of
    sums, attribution keys) it showed; a figure it withheld gives nothing to subtract from."""

    days: Days
    counts: Mapping[str, int]
    shown: frozenset[str] = frozenset()
    #: The lake version the answer was computed on, when the caller named it.
    version: str | None = None


def family(report: str, params: Mapping[str, Any]) -> str:
    """The digest naming a report with its parameters other than the range: answers of one family differ only
    by their days, so their difference rests on the people of the days between them."""
    text = json.dumps({"report": report, "params": {str(k): str(v) for k, v in params.items()}}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def gaps(a: Days, b: Days) -> list[Days]:
    """The days one of two overlapping ranges has and the other lacks (none, one or two ranges); ``[]`` when the
    ranges are the same or do not overlap (disjoint answers share no one to subtract)."""
    if a == b or a[1] < b[0] or b[1] < a[0]:
        return []
    lo, hi = sorted((a[0], b[0])), sorted((a[1], b[1]))
    out = []
    if lo[0] < lo[1]:
        out.append((lo[0], lo[1] - timedelta(days=1)))
    if hi[0] < hi[1]:
        out.append((hi[0] + timedelta(days=1), hi[1]))
    return out


def earlier(data_dir: str | Path, brand: str, name: str, days: Days, version: str | None = None) -> list[Answered]:
    """The brand's earlier answers of family ``name`` over ranges overlapping ``days`` (not the same range), each
    distinct answer once (a range asked again over the same lake is one answer to compare with). With
    ``version``, an answer over the same range on another lake version is an earlier answer too (its counts are
    compared; the same range has no days to subtract)."""
    out: list[Answered] = []
    for line in _answers(Path(data_dir) / FILE, (brand, name)):
        theirs = (date.fromisoformat(line["from"]), date.fromisoformat(line["to"]))
        theirs_version = line.get("version")
        other_version = version is not None and theirs_version is not None and theirs_version != version
        if gaps(days, theirs) or (theirs == days and other_version):
            counts = {str(k): int(v) for k, v in line["counts"].items()}
            shown = frozenset(str(x) for x in line.get("shown", ()))
            found = Answered(theirs, counts, shown, theirs_version if theirs == days else None)
            if found not in out:
                out.append(found)
    return out


def close_counts(counts: Mapping[str, int | None], before: Iterable[Answered], k: int) -> list[str]:
    """The counts of people (in ``counts``' order) that differ from an earlier answer's by more than 0 and fewer
    than ``k``: shown, they would isolate fewer than k people."""
    before = list(before)
    out = []
    for name, n in counts.items():
        if n is None:
            continue
        if any(name in b.counts and 0 < abs(int(n) - b.counts[name]) < k for b in before):
            out.append(name)
    return out


def thin(people: int, k: int) -> bool:
    """Whether a difference resting on ``people`` people isolates too few (some, but fewer than k)."""
    return 0 < people < k


def remember(
    data_dir: str | Path,
    brand: str,
    report: str,
    name: str,
    days: Days,
    counts: Mapping[str, int | None],
    shown: Iterable[str] = (),
    version: str | None = None,
) -> None:
    """Keep an answer's days, the counts of people it showed (withheld ones are left out), the figures it
    showed (``shown``: groups of sums, attribution keys; never an identifier of a person) and, when named, the
    lake version it was computed on."""
    line: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "brand": brand,
        "report": report,
        "family": name,
        "from": days[0].isoformat(),
        "to": days[1].isoformat(),
        "counts": {k: int(v) for k, v in sorted(counts.items()) if v is not None},
        "shown": sorted(set(shown)),
    }
    if version is not None:
        line["version"] = str(version)
    data = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    with _lock:
        fd = os.open(Path(data_dir) / FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
        finally:
            os.close(fd)


@dataclass
class _Seen:
    """What this process has read of one answers file: its identity, how far, and the answers by family."""

    ident: tuple[int, int]
    offset: int
    families: dict[tuple[str, str], list[dict[str, Any]]]


_seen: dict[Path, _Seen] = {}


def _answers(path: Path, key: tuple[str, str]) -> list[dict[str, Any]]:
    """The answers in ``path`` of ``key`` (brand, family), reading only the complete lines appended since the
    last call (from the start when the file is new, was replaced or is shorter than what was read)."""
    with _lock:
        try:
            st = path.stat()
        except FileNotFoundError:
            _seen.pop(path, None)
            return []
        ident = (st.st_dev, st.st_ino)
        seen = _seen.get(path)
        if seen is None or seen.ident != ident or st.st_size < seen.offset:
            seen = _seen[path] = _Seen(ident, 0, {})
        if st.st_size > seen.offset:
            with path.open("rb") as f:
                f.seek(seen.offset)
                chunk = f.read(st.st_size - seen.offset)
            end = chunk.rfind(b"\n") + 1  # a line still being written is read next time
            for raw in chunk[:end].split(b"\n"):
                if raw.strip():
                    line = json.loads(raw)
                    seen.families.setdefault((line["brand"], line["family"]), []).append(line)
            seen.offset += end
        return list(seen.families.get(key, ()))
