"""Self-contained HTML report of a scoring analysis (``rs.report.html_report`` / ``rs.report.write``)."""

from resistscore.report._citations import CITATIONS, Citation
from resistscore.report._html import html_report, write

__all__ = ["CITATIONS", "Citation", "html_report", "write"]
