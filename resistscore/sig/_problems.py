"""Problems found in signature files, collected into a :class:`ValidationReport`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from resistscore._errors import SignatureError

__all__ = ["Problem", "ValidationReport"]

_MAX_IN_MESSAGE = 20


@dataclass(frozen=True)
class Problem:
    """One problem in a signature file: where it is, what is wrong and how to fix it."""

    file: str
    line: int | None
    field: str | None
    problem: str
    fix: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        what = f" [{self.field}]" if self.field else ""
        return f"{where}{what}: {self.problem} Fix: {self.fix}"


class ValidationReport:
    """The problems found by :func:`resistscore.sig.validate`.

    ``report.ok`` is true when there is no error (warnings are allowed); ``report.table`` lists every
    problem with the columns ``severity``, ``file``, ``line``, ``field``, ``problem`` and ``fix``;
    :meth:`raise_if_errors` raises a :class:`~resistscore.SignatureError` listing the errors.
    """

    _COLUMNS = ("severity", "file", "line", "field", "problem", "fix")

    def __init__(self, source: str, problems: list[Problem] | None = None, checks: list[str] | None = None):
        self.source = source
        self.problems: list[Problem] = list(problems or [])
        #: names of the checks that were run (and, for skipped checks, why they were skipped)
        self.checks: list[str] = list(checks or [])

    # -- collecting -------------------------------------------------------------------------
    def error(self, file: str, line: int | None, field: str | None, problem: str, fix: str) -> None:
        """Record an error."""
        self.problems.append(Problem(file, line, field, problem, fix, "error"))

    def warning(self, file: str, line: int | None, field: str | None, problem: str, fix: str) -> None:
        """Record a warning (does not make the report fail)."""
        self.problems.append(Problem(file, line, field, problem, fix, "warning"))

    def extend(self, other: ValidationReport) -> None:
        """Append the problems and checks of another report."""
        self.problems.extend(other.problems)
        self.checks.extend(other.checks)

    # -- reading ----------------------------------------------------------------------------
    @property
    def errors(self) -> list[Problem]:
        """The problems of severity ``"error"``."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The problems of severity ``"warning"``."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no error was found (warnings allowed)."""
        return not self.errors

    def __bool__(self) -> bool:
        return self.ok

    def __len__(self) -> int:
        return len(self.problems)

    @property
    def table(self) -> pd.DataFrame:
        """All problems as a DataFrame (one row per problem)."""
        rows = [(p.severity, p.file, p.line, p.field, p.problem, p.fix) for p in self.problems]
        df = pd.DataFrame(rows, columns=list(self._COLUMNS))
        df["line"] = df["line"].astype("Int64")
        return df

    def format(self, max_items: int | None = _MAX_IN_MESSAGE, severity: str | None = None) -> str:
        """Return the problems as text, one per line (at most ``max_items``)."""
        items = [p for p in self.problems if severity is None or p.severity == severity]
        shown = items if max_items is None else items[:max_items]
        lines = [f"  - {p}" for p in shown]
        if len(items) > len(shown):
            lines.append(f"  ... and {len(items) - len(shown)} more (see rs.sig.validate(...).table)")
        return "\n".join(lines)

    def raise_if_errors(self) -> ValidationReport:
        """Raise :class:`~resistscore.SignatureError` listing the errors; return ``self`` if there are none."""
        errs = self.errors
        if errs:
            raise SignatureError(
                f"{len(errs)} problem(s) in the signatures at {self.source}:\n"
                + self.format(severity="error")
            )
        return self

    def __repr__(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        head = f"ValidationReport({self.source!r}: {n_err} error(s), {n_warn} warning(s))"
        if not self.problems:
            return head
        return head + "\n" + self.format()

    def _repr_html_(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        head = f"<p><b>ValidationReport</b> {self.source}: {n_err} error(s), {n_warn} warning(s)</p>"
        if not self.problems:
            return head
        return head + self.table.to_html(index=False, na_rep="")
