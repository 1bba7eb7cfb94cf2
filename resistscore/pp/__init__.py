"""Preprocessing: gene identifiers to HGNC symbols, scale detection and quality control."""

from resistscore.pp._gene_table import GeneTableError, gene_table, gene_table_provenance
from resistscore.pp._harmonize import COLLAPSE_RULES, GeneMappingReport, harmonize_genes, map_genes
from resistscore.pp._qc import QCReport, clean, qc
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
    "COLLAPSE_RULES",
    "METHOD_SCALE_NEEDS",
    "SCALE_KINDS",
    "GeneMappingReport",
    "GeneTableError",
    "QCReport",
    "ScalePlan",
    "ScaleReport",
    "clean",
    "detect_scale",
    "ensure_log",
    "gene_table",
    "gene_table_provenance",
    "harmonize_genes",
    "map_genes",
    "qc",
    "scale_plan",
]
