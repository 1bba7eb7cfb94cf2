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
    rs.get  # the scores, p-values and results stored in an AnnData (as scanpy.get)
    rs.analyze  # score + statistics + figures + report in one call
    rs.Design  # the analysis design (groups, response, survival, ...) shared by analyze, pl and report
    rs.settings  # verbosity, progress bars, threads (as scanpy.settings)
    rs.precompile  # compile the numba kernels into numba's cache once, after installing

Submodules are imported on first use, so ``import resistscore`` is fast: this module's
``__getattr__`` is the package's one lazy-import layer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from resistscore import _errors
from resistscore._errors import *  # noqa: F403  the error and warning classes
from resistscore._settings import settings
from resistscore._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from resistscore import ds, get, io, pl, pp, report, sig, tl
    from resistscore._design import Design
    from resistscore._precompile import precompile
    from resistscore._workflow import analyze

_SUBMODULES = {"io", "pp", "sig", "tl", "pl", "ds", "report", "get"}

__all__ = [
    *_errors.__all__,
    "Design",
    "__version__",
    "analyze",
    "ds",
    "get",
    "io",
    "pl",
    "pp",
    "precompile",
    "report",
    "settings",
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
    if name == "precompile":
        from resistscore._precompile import precompile

        globals()["precompile"] = precompile
        return precompile
    if name == "Design":
        from resistscore._design import Design

        globals()["Design"] = Design
        return Design
    raise AttributeError(f"module 'resistscore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
