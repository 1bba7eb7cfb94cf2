"""Readers and writers of expression and sample-metadata files."""

from resistscore.io._convert import convert
from resistscore.io._metadata import MetadataJoinReport, normalize_sample_id, read_metadata, read_table
from resistscore.io._read import FORMATS, ORIENTATIONS, read
from resistscore.io._write import neutralize_formulas, restore_formulas, write, write_table, write_workbook

__all__ = [
    "FORMATS",
    "ORIENTATIONS",
    "MetadataJoinReport",
    "convert",
    "neutralize_formulas",
    "normalize_sample_id",
    "read",
    "read_metadata",
    "read_table",
    "restore_formulas",
    "write",
    "write_table",
    "write_workbook",
]
