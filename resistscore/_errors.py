"""Error and warning classes of resistscore.

Every problem with the user's input is raised as a subclass of :class:`ResistScoreError`
(itself a :class:`ValueError`) whose message names the problem *and* the fix. Every
warning is a subclass of :class:`ResistScoreWarning`, so users can filter all of them
with ``warnings.simplefilter("ignore", rs.ResistScoreWarning)``.
"""

from __future__ import annotations

__all__ = [
    "AmbiguousGeneWarning",
    "CellsAsReplicatesWarning",
    "ClusterError",
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


class UnscorableSampleWarning(ResistScoreWarning):
    """Samples (or cells) without information (all NaN, all zero, or constant) got NaN scores; see ``result.unscored``."""
