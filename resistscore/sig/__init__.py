"""Signatures: the mechanism signatures of the review, their format, validation, import and export.

The signature data (``signatures/`` in the repository, shipped in the wheel) is the source of truth:
``signatures.yaml`` plus one gene TSV per signature, checked against ``manifest.tsv`` on load.

* load and inspect: :func:`load`, :func:`list`, :func:`show`, :func:`describe`, :class:`SignatureSet`, :class:`Signature`
* check: :func:`validate`, :func:`build_manifest`, :func:`diff` (changes and the version bump they need)
* shared genes: :func:`overlap` (every pair of signatures), :func:`exclusive` and :func:`exclusive_assignment`
  (each gene in one top-level mechanism; also ``load(exclusive=True)``)
* confounders: :func:`confounders` (proliferation, stromal and immune content; also ``load(confounders=True)``)
* convert: :func:`read_gmt`, :func:`write_gmt`, :func:`to_long`, :func:`from_long`, :func:`from_dict`, :func:`export`
* drugs: :func:`drugs`, :func:`resolve_drug`, :func:`drug_signature`, :func:`drug_signatures`, :func:`drug_mechanisms`
* the review's tables: :func:`mirna_table`, :func:`mirna_signature`, :func:`disease_pathways`,
  :func:`bcr_abl1_mutations`, :func:`bcr_abl1_sensitivity`, :func:`review_inventory`
"""

from resistscore.sig._api import describe, export, list_signatures, load, show
from resistscore.sig._checks import GeneReference, validate
from resistscore.sig._confounders import confounders
from resistscore.sig._convert import from_dict, from_long, read_gmt, to_long, write_gmt
from resistscore.sig._diff import SignatureDiff, diff
from resistscore.sig._drugs import drug_mechanisms, drug_signature, drug_signatures, drugs, resolve_drug
from resistscore.sig._manifest import build_manifest
from resistscore.sig._model import GENE_COLUMNS, Signature, SignatureSet
from resistscore.sig._overlap import EXCLUSIVE_PRECEDENCE, exclusive, exclusive_assignment, overlap
from resistscore.sig._problems import Problem, ValidationReport
from resistscore.sig._queries import (
    BCR_ABL1_DRUGS,
    bcr_abl1_mutations,
    bcr_abl1_sensitivity,
    disease_pathways,
    mirna_signature,
    mirna_table,
    normalise_mutation,
    review_inventory,
)

list = list_signatures

__all__ = [
    "BCR_ABL1_DRUGS",
    "EXCLUSIVE_PRECEDENCE",
    "GENE_COLUMNS",
    "GeneReference",
    "Problem",
    "Signature",
    "SignatureDiff",
    "SignatureSet",
    "ValidationReport",
    "bcr_abl1_mutations",
    "bcr_abl1_sensitivity",
    "build_manifest",
    "confounders",
    "describe",
    "diff",
    "disease_pathways",
    "drug_mechanisms",
    "drug_signature",
    "drug_signatures",
    "drugs",
    "exclusive",
    "exclusive_assignment",
    "export",
    "from_dict",
    "from_long",
    "list",
    "list_signatures",
    "load",
    "mirna_signature",
    "mirna_table",
    "normalise_mutation",
    "overlap",
    "read_gmt",
    "resolve_drug",
    "review_inventory",
    "show",
    "to_long",
    "validate",
    "write_gmt",
]
