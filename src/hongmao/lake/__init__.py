"""The event lake: accepted events as Parquet segments, listed by a catalog database (SQLite or PostgreSQL).

    from hongmao.lake import Lake

    with Lake.open("./hongmao-data") as lake:
        lake.append(rows)                 # rows from hongmao.contract.columns.to_row; de-duplicated by id
        paths = lake.segment_paths()      # committed segments only: what engines read

Modules: :mod:`~hongmao.lake.lake` (the facade), :mod:`~hongmao.lake.catalog` (tables, engine, error
translation, migrations), :mod:`~hongmao.lake.segments` (Parquet files and their schema),
:mod:`~hongmao.lake.lock` (one writer at a time), :mod:`~hongmao.lake.rejects` (rejects.jsonl),
:mod:`~hongmao.lake.recovery` (tidying after a crash).
"""

from hongmao.lake.lake import AppendResult, Lake, SegmentInfo, require
from hongmao.lake.segments import empty_table, segment_schema

__all__ = ["AppendResult", "Lake", "SegmentInfo", "empty_table", "require", "segment_schema"]
