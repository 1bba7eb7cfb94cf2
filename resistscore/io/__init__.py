"""Readers and writers of expression and sample-metadata files."""

from resistscore.io._metadata import MetadataJoinReport, normalize_sample_id, read_metadata, read_table
from resistscore.io._read import FORMATS, ORIENTATIONS, read
from resistscore.io._write import write, write_table, write_workbook

__all__ = [
    "FORMATS",
    "ORIENTATIONS",
    "MetadataJoinReport",
    "normalize_sample_id",
    "read",
    "read_metadata",
    "read_table",
    "write",
    "write_table",
    "write_workbook",
]
