"""Self-contained HTML report of a scoring analysis (``rs.report.html_report`` / ``rs.report.write``)."""

from resistscore.report._citations import CITATIONS, Citation
from resistscore.report._html import content_security_policy, html_report, script_hash, write

__all__ = ["CITATIONS", "Citation", "content_security_policy", "html_report", "script_hash", "write"]
