"""Ingest: readers (JSON lines, CSV, Parquet, stdin), validation, rejects and adapters for outside formats."""

from hongmao.ingestion.pipeline import FileReport, Ingestor, IngestReport, ingest_paths, ingest_records
from hongmao.ingestion.readers import RawRecord, detect_format, read

__all__ = [
    "FileReport",
    "IngestReport",
    "Ingestor",
    "RawRecord",
    "detect_format",
    "ingest_paths",
    "ingest_records",
    "read",
]
