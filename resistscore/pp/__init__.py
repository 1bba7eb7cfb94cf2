"""Preprocessing: gene identifiers to HGNC symbols, scale detection and quality control."""

from resistscore._gene_tables import GeneTableError, gene_table, gene_table_provenance
from resistscore.pp._harmonize import (
    COHORT_LEVEL_RULES,
    COLLAPSE_RULES,
    DEFAULT_COLLAPSE,
    GeneCollapse,
    GeneMappingReport,
    harmonize_genes,
    map_genes,
)
from resistscore.pp._kind import DATA_KINDS, DataKind, data_kind
from resistscore.pp._qc import QCReport, StreamQC, clean, qc
from resistscore.pp._scale import (
    METHOD_SCALE_NEEDS,
    SCALE_KINDS,
    ScalePlan,
    ScaleReport,
    detect_scale,
    ensure_log,
    scale_plan,
)

__all__ = [
    "COHORT_LEVEL_RULES",
    "COLLAPSE_RULES",
    "DATA_KINDS",
    "DEFAULT_COLLAPSE",
    "METHOD_SCALE_NEEDS",
    "SCALE_KINDS",
    "DataKind",
    "GeneCollapse",
    "GeneMappingReport",
    "GeneTableError",
    "QCReport",
    "ScalePlan",
    "ScaleReport",
    "StreamQC",
    "clean",
    "data_kind",
    "detect_scale",
    "ensure_log",
    "gene_table",
    "gene_table_provenance",
    "harmonize_genes",
    "map_genes",
    "qc",
    "scale_plan",
]
