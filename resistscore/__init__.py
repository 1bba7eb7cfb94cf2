"""resistscore: score gene expression for the mechanisms of cancer drug resistance.

Signatures follow Mansoori et al., "The Different Mechanisms of Cancer Drug Resistance: A Brief
Review", Adv Pharm Bull 2017;7(3):339-348, doi:10.15171/apb.2017.041 (corrected where it errs).

Namespaces (scanpy-style)::

    import resistscore as rs

    rs.io  # read / write expression and metadata files
    rs.pp  # gene identifier harmonisation, scale detection, QC
    rs.sig  # the curated signatures, drugs, miRNAs, BCR-ABL1 mutations
    rs.tl  # scoring (rs.tl.score), significance, contributions, statistics
    rs.pl  # figures
    rs.ds  # datasets (rs.ds.toy: a cohort with a known answer)
    rs.report  # self-contained HTML report
    rs.analyze  # score + statistics + figures + report in one call

Submodules are imported on first use, so ``import resistscore`` is fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from resistscore._errors import (
    AmbiguousGeneWarning,
    CellsAsReplicatesWarning,
    ClusterError,
    GeneIdentifierError,
    InputFormatError,
    LowCoverageWarning,
    OrientationError,
    OutputError,
    ResistScoreError,
    ResistScoreWarning,
    SampleMismatchWarning,
    ScaleWarning,
    SignatureError,
    StatisticsError,
    UnscorableSampleWarning,
)
from resistscore._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from resistscore import ds, io, pl, pp, report, sig, tl
    from resistscore._workflow import analyze

_SUBMODULES = {"io", "pp", "sig", "tl", "pl", "ds", "report"}

__all__ = [
    "AmbiguousGeneWarning",
    "CellsAsReplicatesWarning",
    "GeneIdentifierError",
    "InputFormatError",
    "LowCoverageWarning",
    "OrientationError",
    "ClusterError",
    "OutputError",
    "ResistScoreError",
    "ResistScoreWarning",
    "SampleMismatchWarning",
    "ScaleWarning",
    "SignatureError",
    "StatisticsError",
    "UnscorableSampleWarning",
    "__version__",
    "analyze",
    "ds",
    "io",
    "pl",
    "pp",
    "report",
    "sig",
    "tl",
]


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"resistscore.{name}")
        globals()[name] = module
        return module
    if name == "analyze":
        from resistscore._workflow import analyze

        globals()["analyze"] = analyze
        return analyze
    raise AttributeError(f"module 'resistscore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
