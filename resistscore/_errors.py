"""Error and warning classes of resistscore.

Every problem with the user's input is raised as a subclass of :class:`ResistScoreError`
(itself a :class:`ValueError`) whose message names the problem *and* the fix. Every
warning is a subclass of :class:`ResistScoreWarning`, so users can filter all of them
with ``warnings.simplefilter("ignore", rs.ResistScoreWarning)``. Every warning is emitted through
:func:`warn`, which points it at the user's line (the first caller outside the package).
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "AmbiguousGeneWarning",
    "CellsAsReplicatesWarning",
    "ClusterError",
    "DeprecatedArgumentWarning",
    "GeneIdentifierError",
    "InputFormatError",
    "LowCoverageWarning",
    "OrientationError",
    "OutputError",
    "ResistScoreError",
    "ResistScoreWarning",
    "SampleMismatchWarning",
    "ScaleWarning",
    "SignatureError",
    "StatisticsError",
    "UnscorableSampleWarning",
]


class ResistScoreError(ValueError):
    """Base class of every input error raised by resistscore."""


class InputFormatError(ResistScoreError):
    """A file or object is not an expression table resistscore can read."""


class OrientationError(ResistScoreError):
    """Genes and samples appear to be swapped."""


class GeneIdentifierError(ResistScoreError):
    """Gene identifiers cannot be mapped to HGNC symbols."""


class SignatureError(ResistScoreError):
    """A signature (or signature file) is malformed or unknown."""


class StatisticsError(ResistScoreError):
    """A statistical test cannot be run on the given design or data."""


class OutputError(ResistScoreError):
    """An output path cannot be written as asked (it is an input, a file where a folder is needed, ...)."""


class ClusterError(ResistScoreError):
    """A Dask cluster cannot run the scoring (no workers, workers lost beyond the retries, ...)."""


class ResistScoreWarning(UserWarning):
    """Base class of every warning emitted by resistscore."""


class LowCoverageWarning(ResistScoreWarning):
    """A signature is covered below its minimal coverage: its score is not reported (NaN)."""


class AmbiguousGeneWarning(ResistScoreWarning):
    """A gene identifier maps to several HGNC symbols and was left unmapped."""


class ScaleWarning(ResistScoreWarning):
    """The data scale (counts, log, z-scores) is unexpected for the chosen method."""


class CellsAsReplicatesWarning(ResistScoreWarning):
    """Cells are used as independent replicates, which inflates significance."""


class SampleMismatchWarning(ResistScoreWarning):
    """Some samples of the scores have no metadata (or the reverse); they were left out."""


class DeprecatedArgumentWarning(ResistScoreWarning, FutureWarning):
    """An argument was renamed or will be removed; the message names its replacement."""


class UnscorableSampleWarning(ResistScoreWarning):
    """Samples (or cells) without information (all NaN, all zero, or constant) got NaN scores; see ``result.unscored``."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _stacklevel() -> int:
    """Return the ``stacklevel`` of the first frame outside resistscore, as seen by ``warnings.warn`` in :func:`warn`."""
    frame = sys._getframe(2)  # the caller of warn()
    level = 2  # stacklevel 1 is warn() itself, 2 its caller
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level if frame is not None else 2  # no caller outside resistscore (a worker thread): the caller


def warn(message: str, category: type[Warning] = ResistScoreWarning) -> None:
    """Emit a warning of resistscore that points at the user's line, however deep the call.

    The warning's file and line are those of the first caller outside the resistscore package (the
    user's script, notebook cell or test), as ``pandas`` does; a warning raised outside any user code
    (a worker thread) points at resistscore's own line.

    Parameters
    ----------
    message
        What happened and what to do about it.
    category
        A :class:`ResistScoreWarning` subclass.
    """
    warnings.warn(message, category, stacklevel=_stacklevel())
