"""A literature reference: the citation of a scoring method (``MethodInfo.citation``) and of the report.

Shared by ``rs.tl.methods`` (each method's paper) and ``rs.report`` (its methods paragraph), which
imports it without importing the scoring engine.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Citation"]


@dataclass(frozen=True)
class Citation:
    """A reference: key, full text, DOI (linked as https://doi.org/<doi>) and a short label."""

    key: str
    text: str
    doi: str | None = None
    label: str = ""  # short form for tables, e.g. "Foroutan et al., BMC Bioinformatics 2018"

    @property
    def url(self) -> str | None:
        """The DOI as a link."""
        return f"https://doi.org/{self.doi}" if self.doi else None

    @property
    def short(self) -> str:
        """The label (or the text) with the DOI, on one line."""
        return (self.label or self.text) + (f", doi:{self.doi}" if self.doi else "")
