"""The analysis design: which metadata columns the statistics, the figures and the report use.

One :class:`Design` object travels from :func:`resistscore.analyze` to the statistics, to
:func:`resistscore.pl.standard_figures` / :func:`resistscore.pl.save_all` and to
:func:`resistscore.report.html_report`; :meth:`Design.check` is the one place where it is checked
against the metadata.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import StatisticsError

__all__ = [
    "CONFOUNDER_HOW",
    "CONFOUNDER_PREFIX",
    "Design",
    "api_label",
    "confounder_ids",
    "named_results",
    "pick_confounders",
]

#: id prefix of the shipped confounder signatures (``confounder.proliferation`` ...)
CONFOUNDER_PREFIX = "confounder."

#: how to give the statistics confounder scores (the end of every error about them)
CONFOUNDER_HOW = (
    "score the confounder signatures beside the mechanisms (e.g. `rs.tl.score(adata, rs.sig.load(confounders=True))`) "
    "or pass their scores: a samples x confounders DataFrame or a ScoreResult (of an AnnData scored with "
    "`rs.tl.score(adata, rs.sig.confounders(), key_added='confounders')`: `rs.get.result(adata, 'confounders')`)"
)


def confounder_ids(value: str | Sequence[str], frame: pd.DataFrame, arg: str) -> list[str]:
    """Confounder ids named by ``value`` (a short name such as ``"proliferation"`` means ``confounder.proliferation``)."""
    names = [value] if isinstance(value, str) else list(value)
    if not names:
        raise StatisticsError(f"`{arg}` is empty; name at least one confounder (e.g. 'proliferation').")
    out = []
    for name in names:
        if not isinstance(name, str):
            raise StatisticsError(f"`{arg}`: confounder names must be strings; got {name!r}.")
        full = (
            name if name in frame.columns or name.startswith(CONFOUNDER_PREFIX) else CONFOUNDER_PREFIX + name
        )
        if full not in frame.columns:
            avail = [c for c in frame.columns if c.startswith(CONFOUNDER_PREFIX)]
            raise StatisticsError(
                f"`{arg}`: {name!r} is not among the scores (confounder columns present: {avail or 'none'}); "
                + CONFOUNDER_HOW
                + "."
            )
        out.append(full)
    return list(dict.fromkeys(out))


def pick_confounders(frame: pd.DataFrame, names: str | Sequence[str], arg: str = "adjust") -> pd.DataFrame:
    """Return the columns of ``frame`` (confounder scores) named by ``names`` (short names allowed)."""
    return frame[confounder_ids(names, frame, arg)]


#: event spellings read as 1 (event) / 0 (censored), case-insensitive
EVENT_VALUES = {
    "1": 1,
    "0": 0,
    "1.0": 1,
    "0.0": 0,
    "true": 1,
    "false": 0,
    "t": 1,
    "f": 0,
    "yes": 1,
    "no": 0,
    "y": 1,
    "n": 0,
}
#: the fields naming one metadata column each, in the order they are checked
_COLUMN_FIELDS = ("group", "response", "time", "event", "sample_key", "paired_by")


def api_label(name: str) -> str:
    """How the Python API names an argument in a message (``group`` -> ```group```)."""
    return f"`{name}`"


def _column_name(field: str, value: Any, what: str = "the name of a metadata column") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise StatisticsError(f"`{field}` must be {what} (a non-empty text) or None; got {value!r}.")
    return value


def _column_names(field: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable):
        raise StatisticsError(f"`{field}` must be a column name or a list of them; got {value!r}.")
    out = tuple(_column_name(field, v) for v in items)
    return tuple(dict.fromkeys(out))  # type: ignore[arg-type]


def _adjust_names(adjust: Any) -> tuple[str, ...]:
    """``adjust`` as a tuple of confounder names (a comma-separated text is split)."""
    if adjust is None:
        return ()
    if isinstance(adjust, str):
        return tuple(dict.fromkeys(a.strip() for a in adjust.split(",") if a.strip()))
    if not isinstance(adjust, Iterable) or not all(isinstance(a, str) and a.strip() for a in adjust):
        raise StatisticsError(f"`adjust` must name confounders (e.g. ['proliferation']); got {adjust!r}.")
    return tuple(dict.fromkeys(a.strip() for a in adjust))


@dataclass(frozen=True)
class Design:
    """The design of an analysis: the metadata columns of the tests and how the figures show them.

    Build it once and pass it to :func:`resistscore.analyze`, :func:`resistscore.pl.save_all`,
    :func:`resistscore.pl.standard_figures` and :func:`resistscore.report.html_report`; every field is
    optional (``None``: not asked for).

    Parameters
    ----------
    group
        Metadata column of the groups to compare (:func:`resistscore.tl.compare_groups`); also the
        colour bar of the heatmap, the profile and the group figures.
    response
        Metadata column of a continuous drug response (IC50, AUC, GI50: :func:`resistscore.tl.associate`).
    time, event
        Metadata columns of follow-up time and event (1/True = event, 0/False = censored) for
        :func:`resistscore.tl.survival`; give both or neither.
    covariates
        Metadata column(s) the tests adjust for.
    sample_key
        For single-cell data: the column of the biological replicate (patient, donor). Tests run on one
        mean score per replicate, and the figures of those tests draw the replicate means.
    paired_by
        Column of the unit of pairing of a paired group comparison (e.g. patient, pre/post designs).
    test
        Test of the group comparison (``"welch"`` default, ``"mannwhitney"``, ``"anova"``, ``"kruskal"``).
    km_signature
        Signature whose high/low split the Kaplan-Meier figure shows (default: the most significant ones).
    annotation
        Metadata columns drawn as colour bars above the heatmap (default: ``group``).
    adjust
        Confounder(s) whose scores are covariates of every statistic: ``"proliferation"``, ``"stromal"``,
        ``"immune"`` (or their ids ``confounder.*``); a comma-separated text is split. Not metadata
        columns: the confounder signatures are scored with the mechanisms (see :func:`resistscore.analyze`).

    Examples
    --------
    >>> import resistscore as rs
    >>> design = rs.Design(group="group", time="months", event="dead", covariates="tissue")
    >>> design.covariates, design.columns()[:3]
    (('tissue',), [('group', 'group'), ('time', 'months'), ('event', 'dead')])
    """

    group: str | None = None
    response: str | None = None
    time: str | None = None
    event: str | None = None
    covariates: tuple[str, ...] = ()
    sample_key: str | None = None
    paired_by: str | None = None
    test: str | None = None
    km_signature: str | None = None
    annotation: tuple[str, ...] = ()
    adjust: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in _COLUMN_FIELDS:
            object.__setattr__(self, name, _column_name(name, getattr(self, name)))
        _column_name("test", self.test, "the name of a test (welch, mannwhitney, anova, kruskal)")
        _column_name("km_signature", self.km_signature, "a signature id")
        for name in ("covariates", "annotation"):
            object.__setattr__(self, name, _column_names(name, getattr(self, name)))
        object.__setattr__(self, "adjust", _adjust_names(self.adjust))

    # ------------------------------------------------------------------------------------ queries
    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """Names of the fields, in order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def resolve(cls, design: Design | None = None, **fields: Any) -> Design:
        """Return the design of a call: ``design``, or one built from its fields given as keywords.

        ``rs.pl.save_all(result, "figs", metadata=meta, group="group")`` is
        ``rs.pl.save_all(result, "figs", metadata=meta, design=rs.Design(group="group"))``.

        Examples
        --------
        >>> Design.resolve(group="arm") == Design(group="arm")
        True
        """
        unknown = sorted(set(fields) - set(cls.fields()))
        if unknown:
            raise StatisticsError(
                f"unknown argument(s) {unknown}; the design takes {', '.join(cls.fields())} "
                "(or give `design=rs.Design(...)`)."
            )
        given = {k: v for k, v in fields.items() if v is not None and v != ()}
        if design is None:
            return cls(**given)
        if not isinstance(design, Design):
            raise StatisticsError(f"`design` must be a resistscore Design; got {type(design).__name__}.")
        if given:
            raise StatisticsError(
                f"give the design either as `design=` or as keywords ({', '.join(given)}), not both; "
                f"e.g. design.replace({', '.join(f'{k}=...' for k in given)})."
            )
        return design

    def replace(self, **changes: Any) -> Design:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def columns(self) -> list[tuple[str, str]]:
        """``(field, column)`` of every metadata column the design names (tests and heatmap bars)."""
        named = [(k, getattr(self, k)) for k in _COLUMN_FIELDS]
        out = [(k, v) for k, v in named if v is not None]
        out += [("covariates", c) for c in self.covariates]
        return out + [("annotation", c) for c in self.annotation]

    @property
    def has_tests(self) -> bool:
        """Whether the design asks for a test (a group comparison, an association or survival)."""
        return any(v is not None for v in (self.group, self.response, self.time))

    @property
    def heatmap_annotation(self) -> list[str]:
        """Columns of the heatmap's colour bars: ``annotation``, else ``[group]``."""
        return list(self.annotation) or ([self.group] if self.group else [])

    def to_dict(self) -> dict[str, Any]:
        """Return the fields that are set (lists for the tuples)."""
        out = {}
        for name in self.fields():
            value = getattr(self, name)
            if value is not None and value != ():
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    # ------------------------------------------------------------------------------------- checks
    def check_options(self, has_metadata: bool, label: Callable[[str], str] = api_label) -> None:
        """Check what needs no data: ``time`` with ``event``, ``paired_by`` with ``group``, metadata given."""
        if (self.time is None) != (self.event is None):
            missing = "event" if self.event is None else "time"
            raise StatisticsError(
                f"survival needs both {label('time')} and {label('event')}; {label(missing)} is missing "
                "(give both, or neither)."
            )
        if self.paired_by is not None and self.group is None:
            raise StatisticsError(
                f"{label('paired_by')} pairs the samples of a group comparison; give {label('group')} too."
            )
        asked = dict.fromkeys(k for k, _ in self.columns())
        if not has_metadata and asked:
            raise StatisticsError(
                f"{', '.join(map(label, asked))} need sample metadata; give it with {label('metadata')}."
            )

    def check(
        self,
        metadata: pd.DataFrame | None,
        *,
        label: Callable[[str], str] = api_label,
        id_column: str | None = None,
    ) -> pd.DataFrame | None:
        """Check the design against the metadata before any work; return the metadata to use.

        Every named column must exist; ``time`` and ``event`` come together; times are finite
        non-negative numbers; the event column is read as 1 / 0 (1/0, True/False, yes/no in any case).
        The metadata given are never modified (a copy is returned when the event column is recoded).

        Parameters
        ----------
        metadata
            Sample metadata indexed by sample, or ``None``.
        label
            How messages name an option (the API's ```time```, the command line's ``--time``).
        id_column
            The column holding the sample ids, named in the message when it is asked for as data.

        Returns
        -------
        pandas.DataFrame or None
        """
        self.check_options(metadata is not None, label)
        if metadata is None:
            return None
        columns = list(map(str, metadata.columns))
        available = ", ".join(columns[:20]) + (" ..." if len(columns) > 20 else "") or "(none)"
        for key, col in self.columns():
            if col not in metadata.columns:
                where = f" (the id column {id_column!r} holds the sample ids)" if col == id_column else ""
                raise StatisticsError(
                    f"{label(key)} {col!r} is not a column of the metadata{where}; available columns: {available}."
                )
        if self.time is not None:
            _check_times(metadata[self.time], self.time, label)
            metadata = _event_as_int(metadata, self.event, label)
        return metadata


def _check_times(t: pd.Series, name: str, label: Callable[[str], str]) -> None:
    values = pd.to_numeric(t, errors="coerce")
    text = t.notna() & values.isna()
    if text.any():
        raise StatisticsError(
            f"{label('time')} column {name!r} must hold follow-up times as numbers; found {t[text].iloc[0]!r}."
        )
    if np.isinf(values).any():
        raise StatisticsError(
            f"{label('time')} column {name!r} holds an infinite time (sample {values.index[np.isinf(values)][0]!r}); "
            "give every follow-up time as a finite number (or leave it empty if unknown)."
        )
    if (values < 0).any():
        raise StatisticsError(
            f"{label('time')} column {name!r} holds a negative time (sample {values.index[values < 0][0]!r}); "
            "follow-up times are >= 0."
        )


def _event_as_int(meta: pd.DataFrame, event: str, label: Callable[[str], str]) -> pd.DataFrame:
    """Read an event column written as 1/0, True/False or yes/no (any case) as 1 / 0."""
    col = meta[event]
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return meta
    text = col.dropna().astype(str).str.strip().str.lower()
    unknown = sorted(set(text) - set(EVENT_VALUES))
    if unknown:
        raise StatisticsError(
            f"{label('event')} column {event!r} must say for each sample whether the event happened: 1/0, "
            f"True/False or yes/no; found {unknown[:5]}."
        )
    out = meta.copy()
    out[event] = col.map(
        lambda v: EVENT_VALUES[str(v).strip().lower()] if pd.notna(v) else np.nan, na_action=None
    ).astype(float)
    return out


def named_results(stats: Any) -> list[tuple[str, Any]]:
    """Statistics results as ``(name, result)`` pairs: a dict, a list, one result or ``None``.

    Examples
    --------
    >>> [name for name, _ in named_results({"groups": 1, "survival": 2})]
    ['groups', 'survival']
    >>> [name for name, _ in named_results([1, 2])], [name for name, _ in named_results(1)]
    (['stats1', 'stats2'], ['stats'])
    """
    if stats is None:
        return []
    if isinstance(stats, Mapping):
        return [(str(k), v) for k, v in stats.items()]
    if isinstance(stats, (list, tuple)):
        return [(f"stats{i + 1}" if len(stats) > 1 else "stats", s) for i, s in enumerate(stats)]
    return [("stats", stats)]
