"""The signature model: :class:`Signature` (one directional, weighted gene set) and :class:`SignatureSet`."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import SignatureError
from resistscore._validate import check_choice
from resistscore.sig._files import close_matches

__all__ = ["GENE_COLUMNS", "Signature", "SignatureSet"]

#: The columns of a signature gene table, in file order.
GENE_COLUMNS: tuple[str, ...] = (
    "symbol",
    "hgnc_id",
    "ensembl_gene_id",
    "direction",
    "weight",
    "evidence_source",
    "evidence",
    "confidence",
    "note",
)
_DIRECTIONS = ("up", "down")
_LEVELS = ("all", "mechanism", "sub")
_MAX_REPR_ROWS = 80


def _empty_genes() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c == "weight" else object) for c in GENE_COLUMNS})


def to_float_array(values: Any) -> np.ndarray:
    """Convert numbers or numeric text to floats exactly (``pd.to_numeric`` may round text); raise ValueError."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=float, copy=True, na_value=np.nan)
    out = np.empty(len(series), dtype=float)
    for i, v in enumerate(series.tolist()):
        if isinstance(v, bool):
            raise ValueError(f"{v!r} is not a number")
        if v is None or v is pd.NA:
            out[i] = np.nan
            continue
        try:
            out[i] = float(v.strip() if isinstance(v, str) else v)
        except (TypeError, ValueError):
            raise ValueError(f"{v!r} is not a number") from None
    return out


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value).strip()


def _normalise_genes(genes: Any, sig_id: str) -> pd.DataFrame:
    """Return a validated copy of a gene table with exactly :data:`GENE_COLUMNS`."""
    if not isinstance(genes, pd.DataFrame):
        raise SignatureError(
            f"signature {sig_id!r}: `genes` must be a DataFrame with columns {', '.join(GENE_COLUMNS)}; "
            f"got {type(genes).__name__}. Build signatures from lists or dicts with rs.sig.load(...)."
        )
    for col in ("symbol", "direction", "weight"):
        if col not in genes.columns:
            raise SignatureError(
                f"signature {sig_id!r}: the gene table has no `{col}` column. "
                f"Give at least the columns symbol, direction and weight."
            )
    n = len(genes)
    cols: dict[str, np.ndarray] = {}
    for col in GENE_COLUMNS:
        if col == "weight":
            try:
                cols[col] = to_float_array(genes[col])
            except (TypeError, ValueError) as exc:
                raise SignatureError(
                    f"signature {sig_id!r}: weights must be numbers ({exc}). Write each weight as a number in (0, 1]."
                ) from None
        elif col in genes.columns:
            cols[col] = np.array([_text(v) for v in genes[col].tolist()], dtype=object).reshape(n)
        else:
            cols[col] = np.full(n, "", dtype=object)
    out = pd.DataFrame(cols, index=pd.RangeIndex(n))
    for i, (sym, d) in enumerate(zip(cols["symbol"], cols["direction"])):
        if not sym:
            raise SignatureError(f"signature {sig_id!r}: row {i} has no gene symbol. Fill in every symbol.")
        if d not in _DIRECTIONS:
            raise SignatureError(
                f"signature {sig_id!r}: gene {sym} has direction {d!r}. "
                "Write `up` (higher in resistance) or `down` (lower in resistance)."
            )
    w = cols["weight"]
    bad_w = ~np.isfinite(w) | (w <= 0)
    if bad_w.any():
        i = int(np.flatnonzero(bad_w)[0])
        raise SignatureError(
            f"signature {sig_id!r}: gene {cols['symbol'][i]} has weight {float(w[i])!r}. Weights must be finite and > 0; "
            "the sign of an effect goes in `direction`."
        )
    symbols = cols["symbol"].tolist()
    if len(set(symbols)) != n:
        names = sorted(k for k, c in Counter(symbols).items() if c > 1)
        raise SignatureError(
            f"signature {sig_id!r}: gene(s) {', '.join(names)} appear more than once. List each gene once "
            "(sum or choose a single weight and direction)."
        )
    return out


def _signed_weights(genes: pd.DataFrame) -> np.ndarray:
    """Return the signed weights of a gene table: ``weight``, negative where ``direction`` is ``down``."""
    return np.where(genes["direction"].to_numpy() == "down", -1.0, 1.0) * genes["weight"].to_numpy()


@dataclass(frozen=True, eq=False)
class Signature:
    """One directional, weighted gene signature of a resistance mechanism.

    A signature is a set of genes, each either ``up`` or ``down`` in drug resistance with a weight
    in (0, 1], with its provenance (evidence, confidence, references). Signatures are immutable;
    use :meth:`replace` to derive a modified copy.

    Parameters
    ----------
    id
        Stable identifier: lower snake case, hierarchy by dots (``efflux_abc.abcb1``).
    version
        Semantic version of the signature (see ``signatures/VERSIONING.md``).
    name
        Human-readable name.
    parent
        Id of the parent signature, or None for a top-level mechanism.
    mechanism
        Id of the top-level mechanism it belongs to.
    description
        What the signature measures.
    review_section
        Section of Mansoori et al. (2017) it comes from (None if the review does not discuss it).
    drugs
        Canonical names of the drugs whose resistance it affects.
    references
        Citations supporting the signature.
    min_coverage
        Share of the signature's total absolute weight that must be measured for a score to be reported.
    feature_type
        ``"gene"`` (HGNC symbols) or ``"mirna"`` (miRBase mature ids).
    genes
        Gene table with the columns of :data:`GENE_COLUMNS`.
    source
        Where the signature was read from (file name), for messages.

    Examples
    --------
    >>> import pandas as pd
    >>> from resistscore.sig import Signature
    >>> genes = pd.DataFrame(
    ...     {
    ...         "symbol": ["ABCB1", "ABCG2", "SLC29A1"],
    ...         "direction": ["up", "up", "down"],
    ...         "weight": [1.0, 0.5, 0.8],
    ...     }
    ... )
    >>> s = Signature("efflux_demo", genes=genes)
    >>> s.up, s.down
    (['ABCB1', 'ABCG2'], ['SLC29A1'])
    >>> s.to_network()
            source   target  weight
    0  efflux_demo    ABCB1     1.0
    1  efflux_demo    ABCG2     0.5
    2  efflux_demo  SLC29A1    -0.8
    """

    id: str
    version: str = "0.0.0"
    name: str = ""
    parent: str | None = None
    mechanism: str | None = None
    description: str = ""
    review_section: str | None = None
    drugs: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    min_coverage: float = 0.5
    feature_type: str = "gene"
    genes: pd.DataFrame = field(default_factory=_empty_genes, repr=False)
    source: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise SignatureError(
                f"a signature id must be a non-empty string; got {self.id!r}. Give each signature a name."
            )
        object.__setattr__(self, "id", self.id.strip())
        object.__setattr__(self, "genes", _normalise_genes(self.genes, self.id))
        object.__setattr__(self, "drugs", tuple(self.drugs or ()))
        object.__setattr__(self, "references", tuple(self.references or ()))
        if self.mechanism is None:
            object.__setattr__(self, "mechanism", self.id.split(".")[0])
        mc = self.min_coverage
        if isinstance(mc, bool) or not isinstance(mc, (int, float)) or not (0 < mc <= 1):
            raise SignatureError(
                f"signature {self.id!r}: min_coverage must be a number in (0, 1]; got {mc!r}. "
                "Give the minimal share of total weight that must be measured, e.g. 0.5."
            )
        object.__setattr__(self, "min_coverage", float(mc))
        check_choice("feature_type", self.feature_type, ("gene", "mirna"))

    # -- views ------------------------------------------------------------------------------
    @property
    def up(self) -> list[str]:
        """Genes higher in resistance, in file order."""
        return self.genes.loc[self.genes["direction"] == "up", "symbol"].tolist()

    @property
    def down(self) -> list[str]:
        """Genes lower in resistance, in file order."""
        return self.genes.loc[self.genes["direction"] == "down", "symbol"].tolist()

    @property
    def symbols(self) -> list[str]:
        """All genes, in file order."""
        return self.genes["symbol"].tolist()

    @property
    def weights(self) -> pd.Series:
        """Signed weights indexed by gene: positive for ``up``, negative for ``down``."""
        return pd.Series(_signed_weights(self.genes), index=pd.Index(self.symbols, name="symbol"),
                         name=self.id)  # fmt: skip

    @property
    def level(self) -> str:
        """``"mechanism"`` for a top-level signature, ``"sub"`` for one with a parent."""
        return "mechanism" if self.parent is None else "sub"

    def __len__(self) -> int:
        return len(self.genes)

    def __contains__(self, gene: object) -> bool:
        return gene in set(self.genes["symbol"])

    def to_network(self) -> pd.DataFrame:
        """Return the decoupler-style long table ``source, target, weight`` with signed weights."""
        w = self.weights
        return pd.DataFrame({"source": self.id, "target": w.index.to_numpy(), "weight": w.to_numpy()})

    def replace(self, **changes: Any) -> Signature:
        """Return a copy with some fields changed (``s.replace(min_coverage=0.3)``)."""
        return replace(self, **changes)

    def equals(self, other: object) -> bool:
        """Return True if ``other`` has the same metadata and the same gene table."""
        if not isinstance(other, Signature):
            return False
        fields = ("id", "version", "name", "parent", "mechanism", "description", "review_section", "drugs",
                  "references", "min_coverage", "feature_type")  # fmt: skip
        return all(getattr(self, f) == getattr(other, f) for f in fields) and self.genes.equals(other.genes)

    def metadata(self) -> dict[str, Any]:
        """Return the signature's fields except the gene table, as in ``signatures.yaml``."""
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "parent": self.parent,
            "mechanism": self.mechanism,
            "description": self.description,
            "review_section": self.review_section,
            "drugs": list(self.drugs),
            "references": list(self.references),
            "min_coverage": self.min_coverage,
            "feature_type": self.feature_type,
        }

    def __repr__(self) -> str:
        head = (
            f"Signature {self.id!r} v{self.version}: {self.name or '(no name)'}\n"
            f"  {len(self.up)} up, {len(self.down)} down; parent={self.parent}; "
            f"min_coverage={self.min_coverage:g}; feature_type={self.feature_type}"
        )
        if self.drugs:
            head += f"\n  drugs: {', '.join(self.drugs)}"
        cols = ["symbol", "direction", "weight", "evidence_source", "confidence"]
        with pd.option_context("display.max_rows", _MAX_REPR_ROWS, "display.width", 120):
            return head + "\n" + self.genes[cols].to_string(max_rows=_MAX_REPR_ROWS)

    def _repr_html_(self) -> str:
        meta = (
            f"<p><b>Signature</b> <code>{html.escape(self.id)}</code> v{html.escape(self.version)}: "
            f"{html.escape(self.name)}<br>{len(self.up)} up, {len(self.down)} down; parent: "
            f"{html.escape(str(self.parent))}; min_coverage {self.min_coverage:g}; "
            f"drugs: {html.escape(', '.join(self.drugs) or '-')}</p>"
        )
        return meta + self.genes.to_html(max_rows=_MAX_REPR_ROWS, index=False)


class SignatureSet:
    """An ordered collection of :class:`Signature` objects (e.g. the shipped mechanism signatures).

    Index it by id (``sigs["efflux_abc"]``) or by a list of ids (a smaller set); iterate over the
    signatures; convert it to the decoupler long format with :meth:`to_network`.

    Parameters
    ----------
    signatures
        The signatures, in order. Ids must be unique.
    collection
        Name of the collection.
    version
        Version of the collection (semantic version).
    metadata
        Further collection metadata (e.g. the review citation).

    Examples
    --------
    >>> import resistscore as rs
    >>> sigs = rs.sig.load({"efflux": {"ABCB1": 1.0, "ABCG2": 0.5}, "apoptosis": {"BCL2": 1.0, "BAX": -1.0}})
    >>> len(sigs), sigs.ids
    (2, ['efflux', 'apoptosis'])
    >>> sigs["apoptosis"].down
    ['BAX']
    >>> sigs.to_network()
          source target  weight
    0     efflux  ABCB1     1.0
    1     efflux  ABCG2     0.5
    2  apoptosis   BCL2     1.0
    3  apoptosis    BAX    -1.0
    """

    def __init__(
        self,
        signatures: Iterable[Signature] = (),
        *,
        collection: str = "user",
        version: str = "0.0.0",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        sigs: dict[str, Signature] = {}
        for s in signatures:
            if not isinstance(s, Signature):
                raise SignatureError(
                    f"a SignatureSet holds Signature objects; got {type(s).__name__}. Use rs.sig.load(...) to build one."
                )
            if s.id in sigs:
                raise SignatureError(
                    f"signature id {s.id!r} appears twice. Give every signature a unique id."
                )
            sigs[s.id] = s
        self._sigs = sigs
        self.collection = collection
        self.version = version
        self.metadata: dict[str, Any] = dict(metadata or {})

    # -- container protocol -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._sigs)

    def __iter__(self) -> Iterator[Signature]:
        return iter(self._sigs.values())

    def __contains__(self, key: object) -> bool:
        return key in self._sigs

    def __getitem__(self, key: str | Sequence[str]) -> Signature | SignatureSet:
        if isinstance(key, str):
            try:
                return self._sigs[key]
            except KeyError:
                raise SignatureError(self._unknown(key)) from None
        if isinstance(key, Iterable):
            keys = list(key)
            for k in keys:
                if k not in self._sigs:
                    raise SignatureError(self._unknown(k))
            return self._subset([self._sigs[k] for k in keys])
        raise SignatureError(f"index a SignatureSet by an id or a list of ids; got {type(key).__name__}.")

    def _unknown(self, key: object) -> str:
        return (
            f"unknown signature id {key!r}.{close_matches(str(key), self._sigs)} "
            "List the available ids with rs.sig.list() (or `sigs.ids`)."
        )

    def _subset(self, sigs: Iterable[Signature]) -> SignatureSet:
        return SignatureSet(sigs, collection=self.collection, version=self.version, metadata=self.metadata)

    def get(self, key: str, default: Any = None) -> Signature | Any:
        """Return the signature with id ``key``, or ``default``."""
        return self._sigs.get(key, default)

    @property
    def ids(self) -> list[str]:
        """Signature ids, in order."""
        return list(self._sigs)

    @property
    def signatures(self) -> list[Signature]:
        """The signatures, in order."""
        return list(self._sigs.values())

    def children(self, sig_id: str) -> list[str]:
        """Ids of the direct sub-signatures of ``sig_id``."""
        self[sig_id]  # raises on an unknown id
        return [s.id for s in self if s.parent == sig_id]

    # -- selection --------------------------------------------------------------------------
    def select(
        self,
        ids: str | Sequence[str] | None = None,
        *,
        level: str = "all",
        mechanism: str | Sequence[str] | None = None,
        drug: str | None = None,
        feature_type: str | None = None,
    ) -> SignatureSet:
        """Return the signatures that match every criterion given, in collection order.

        Parameters
        ----------
        ids
            Signature id(s) to keep. An unknown id raises :class:`~resistscore.SignatureError`.
        level
            ``"all"`` (default), ``"mechanism"`` (top-level signatures only) or ``"sub"`` (only signatures
            with a parent).
        mechanism
            Keep the signatures of these top-level mechanism id(s) (the mechanism and its sub-signatures).
        drug
            Keep the signatures listing this canonical drug name.
        feature_type
            ``"gene"`` or ``"mirna"``.

        Examples
        --------
        >>> import resistscore as rs
        >>> sigs = rs.sig.load({"efflux": ["ABCB1", "ABCG2"], "efflux.abcb1": ["ABCB1"], "repair": ["ERCC1"]})
        >>> sigs.select(level="mechanism").ids
        ['efflux', 'repair']
        >>> sigs.select(mechanism="efflux").ids
        ['efflux', 'efflux.abcb1']
        """
        check_choice("level", level, _LEVELS)
        keep = list(self)
        if ids is not None:
            wanted = [ids] if isinstance(ids, str) else list(ids)
            for k in wanted:
                if k not in self._sigs:
                    raise SignatureError(self._unknown(k))
            wanted_set = set(wanted)
            keep = [s for s in keep if s.id in wanted_set]
        if level != "all":
            keep = [s for s in keep if s.level == level]
        if mechanism is not None:
            mechs = {mechanism} if isinstance(mechanism, str) else set(mechanism)
            known = {s.mechanism for s in self}
            for m in mechs:
                if m not in known:
                    raise SignatureError(
                        f"unknown mechanism {m!r}.{close_matches(m, known)} Known mechanisms: {', '.join(sorted(known))}."
                    )
            keep = [s for s in keep if s.mechanism in mechs]
        if drug is not None:
            keep = [s for s in keep if drug in s.drugs]
        if feature_type is not None:
            check_choice("feature_type", feature_type, ("gene", "mirna"))
            keep = [s for s in keep if s.feature_type == feature_type]
        return self._subset(keep)

    # -- conversion -------------------------------------------------------------------------
    def to_network(self) -> pd.DataFrame:
        """Return the long table ``source, target, weight`` (signed weights: down genes negative)."""
        if not len(self):
            return pd.DataFrame({"source": pd.Series(dtype=object), "target": pd.Series(dtype=object),
                                 "weight": pd.Series(dtype=float)})  # fmt: skip
        # one table from the gene tables' columns (Signature.to_network's values): a DataFrame per signature
        # and their concatenation cost ~0.02 s of CPU for the shipped collection, on every scoring run
        genes = [s.genes for s in self]
        return pd.DataFrame(
            {
                "source": np.repeat(np.array(self.ids, dtype=object), [len(g) for g in genes]),
                "target": np.concatenate([g["symbol"].to_numpy() for g in genes]),
                "weight": np.concatenate([_signed_weights(g) for g in genes]),
            }
        )

    def to_dict(self) -> dict[str, dict[str, float]]:
        """Return ``{signature id: {gene: signed weight}}``."""
        return {s.id: s.weights.to_dict() for s in self}

    @property
    def min_coverage(self) -> pd.Series:
        """Minimal coverage of each signature, indexed by id."""
        return pd.Series([s.min_coverage for s in self], index=pd.Index(self.ids, name="id"),
                         name="min_coverage", dtype=float)  # fmt: skip

    def with_min_coverage(self, value: float | Mapping[str, float]) -> SignatureSet:
        """Return a copy with another minimal coverage (one value, or a mapping id -> value).

        Examples
        --------
        >>> import resistscore as rs
        >>> sigs = rs.sig.load({"a": ["G1"], "b": ["G2"]}).with_min_coverage({"a": 0.8})
        >>> sigs.min_coverage.to_dict()
        {'a': 0.8, 'b': 0.5}
        """
        if isinstance(value, Mapping):
            for k in value:
                if k not in self._sigs:
                    raise SignatureError(self._unknown(k))
            new = [s.replace(min_coverage=value[s.id]) if s.id in value else s for s in self]
        else:
            new = [s.replace(min_coverage=value) for s in self]
        return self._subset(new)

    @property
    def signature_versions(self) -> dict[str, str]:
        """Version of each signature, by id (record it with results for reproducibility)."""
        return {s.id: s.version for s in self}

    @property
    def genes(self) -> list[str]:
        """All genes of all signatures, each once, in order of first appearance."""
        return list(dict.fromkeys(g for s in self for g in s.symbols))

    def table(self) -> pd.DataFrame:
        """Return one summary row per signature.

        Columns: ``id``, ``name``, ``parent``, ``mechanism``, ``level``, ``n_up``, ``n_down``, ``drugs``
        (comma-separated), ``version``, ``min_coverage``, ``feature_type``.
        """
        rows = [
            {
                "id": s.id,
                "name": s.name,
                "parent": s.parent if s.parent is not None else "",
                "mechanism": s.mechanism,
                "level": s.level,
                "n_up": len(s.up),
                "n_down": len(s.down),
                "drugs": ", ".join(s.drugs),
                "version": s.version,
                "min_coverage": s.min_coverage,
                "feature_type": s.feature_type,
            }
            for s in self
        ]
        cols = ["id", "name", "parent", "mechanism", "level", "n_up", "n_down", "drugs", "version",
                "min_coverage", "feature_type"]  # fmt: skip
        return pd.DataFrame(rows, columns=cols)

    def equals(self, other: object) -> bool:
        """Return True if ``other`` holds equal signatures in the same order."""
        return (
            isinstance(other, SignatureSet)
            and self.ids == other.ids
            and all(a.equals(b) for a, b in zip(self, other))
        )

    def __repr__(self) -> str:
        head = f"SignatureSet {self.collection!r} v{self.version}: {len(self)} signature(s)"
        if not len(self):
            return head
        cols = ["id", "name", "n_up", "n_down", "min_coverage"]
        with pd.option_context("display.width", 160, "display.max_colwidth", 48):
            return head + "\n" + self.table()[cols].to_string(index=False, max_rows=_MAX_REPR_ROWS)

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>SignatureSet</b> <code>{html.escape(self.collection)}</code> v{html.escape(self.version)}: "
            f"{len(self)} signature(s)</p>"
        )
        return head + self.table().to_html(index=False, max_rows=_MAX_REPR_ROWS)


_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def parse_version(version: str) -> tuple[int, int, int]:
    """Return ``(major, minor, patch)`` of a semantic version string."""
    m = _SEMVER.match(str(version))
    if not m:
        raise SignatureError(f"{version!r} is not a semantic version. Write MAJOR.MINOR.PATCH, e.g. '1.0.0'.")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))
