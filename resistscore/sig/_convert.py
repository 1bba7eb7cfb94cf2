"""Conversions between :class:`SignatureSet` and GMT files, long tables and dicts."""

from __future__ import annotations

import gzip
import math
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from resistscore._atomic import atomic_write
from resistscore._errors import SignatureError
from resistscore.sig._model import Signature, SignatureSet, to_float_array

__all__ = ["from_dict", "from_long", "read_gmt", "to_long", "write_gmt"]

_UP, _DN = "_UP", "_DN"
_MARK = "resistscore"


def _fmt_weight(w: float) -> str:
    """Shortest text that reads back as exactly the same float."""
    return repr(float(w))


# ------------------------------------------------------------------------------------------ GMT
def write_gmt(signatures: SignatureSet | Signature, path: str | os.PathLike[str]) -> Path:
    r"""Write signatures to a GMT file, directional signatures as ``<id>_UP`` / ``<id>_DN`` pairs.

    Each set is one line ``name<TAB>description<TAB>gene<TAB>gene...``. Every signature is written
    as ``<id>_UP`` (its up genes) and ``<id>_DN`` (its down genes); a direction without genes is left
    out. The description column carries the metadata needed to read the file back exactly
    (URL-encoded: ``resistscore=1&version=...&min_coverage=...&weights=...``); other tools ignore it.

    Parameters
    ----------
    signatures
        A :class:`SignatureSet` or a single :class:`Signature`.
    path
        Output file (``.gmt``; ``.gz`` compresses). Written atomically.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import resistscore as rs
    >>> sigs = rs.sig.load({"apoptosis": {"BCL2": 1.0, "MCL1": 0.5, "BAX": -1.0}})
    >>> path = rs.sig.write_gmt(sigs, pathlib.Path(tempfile.mkdtemp()) / "sigs.gmt")
    >>> [line.split("\t")[0] for line in path.read_text().splitlines()]
    ['apoptosis_UP', 'apoptosis_DN']
    >>> rs.sig.read_gmt(path)["apoptosis"].weights.to_dict()
    {'BCL2': 1.0, 'MCL1': 0.5, 'BAX': -1.0}
    """
    sigs = _as_set(signatures)
    lines = []
    for s in sigs:
        if any(c in s.id for c in "\t\r\n"):
            raise SignatureError(
                f"signature id {s.id!r} contains a tab or line break; rename it before writing GMT."
            )
        for suffix, direction in ((_UP, "up"), (_DN, "down")):
            g = s.genes.loc[s.genes["direction"] == direction]
            if g.empty:
                continue
            meta = {
                _MARK: "1",
                "name": s.name,
                "version": s.version,
                "parent": s.parent or "",
                "mechanism": s.mechanism or "",
                "min_coverage": _fmt_weight(s.min_coverage),
                "feature_type": s.feature_type,
                "weights": ",".join(_fmt_weight(w) for w in g["weight"]),
            }
            desc = urllib.parse.urlencode(meta, quote_via=urllib.parse.quote)
            for sym in g["symbol"]:
                if "\t" in sym or "\n" in sym:
                    raise SignatureError(
                        f"gene {sym!r} of {s.id!r} contains a tab or newline; it cannot go in a GMT file."
                    )
            lines.append("\t".join([s.id + suffix, desc, *g["symbol"]]))
    path = Path(path)
    text = "".join(line + "\n" for line in lines)
    if path.suffix == ".gz":
        with atomic_write(path, "wb") as fh:
            fh.write(gzip.compress(text.encode("utf-8"), mtime=0))
    else:
        with atomic_write(path) as fh:
            fh.write(text)
    return path


def _open_text(path: Path) -> str:
    if not path.is_file():
        raise SignatureError(f"GMT file {path} not found. Check the path.")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise SignatureError(
                f"{path}: corrupt gzip file ({exc}). Re-download or re-compress it."
            ) from None
    try:
        return raw.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise SignatureError(f"{path}: not UTF-8 text ({exc.reason}). Save the GMT file as UTF-8.") from None


def read_gmt(
    path: str | os.PathLike[str],
    *,
    directional: bool = True,
    min_coverage: float = 0.5,
) -> SignatureSet:
    r"""Read a GMT file into a :class:`SignatureSet`.

    Parameters
    ----------
    path
        A GMT file (plain or gzipped): one set per line, ``name<TAB>description<TAB>genes...``.
    directional
        If True (default), sets named ``<id>_UP`` and ``<id>_DN`` (also ``_DOWN``, any case) are read as
        the up and down genes of one signature ``<id>``. If False, every line is its own undirected
        signature named as in the file.
    min_coverage
        Minimal coverage given to signatures whose description does not set one.

    Returns
    -------
    SignatureSet
        Plain GMT sets become signatures of ``up`` genes with weight 1. Files written by
        :func:`write_gmt` are read back with their exact weights, versions and hierarchy.

    Raises
    ------
    SignatureError
        For a missing or unreadable file, a line without genes, a set name used twice, or a gene that
        is both up and down in one signature.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import resistscore as rs
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "plain.gmt"
    >>> _ = p.write_text("HYPOXIA\thttp://example.org\tHIF1A\tVEGFA\tCA9\n")
    >>> sigs = rs.sig.read_gmt(p)
    >>> sigs["HYPOXIA"].weights.to_dict()
    {'HIF1A': 1.0, 'VEGFA': 1.0, 'CA9': 1.0}
    """
    path = Path(path)
    text = _open_text(path)
    # name -> list of (direction, genes, meta, line number)
    groups: dict[str, list[tuple[str, list[str], dict[str, str], int]]] = {}
    seen_names: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        name = cells[0]
        genes = [g for g in cells[2:] if g]
        if not name:
            raise SignatureError(
                f"{path}:{lineno}: the set has no name. Put the set name in the first column."
            )
        if len(cells) < 3 or not genes:
            raise SignatureError(
                f"{path}:{lineno}: set {name!r} has no genes. A GMT line is name<TAB>description<TAB>gene<TAB>gene...; "
                "check that the file is tab-separated and has a description column."
            )
        if name in seen_names:
            raise SignatureError(
                f"{path}:{lineno}: set name {name!r} is used twice (also on line {seen_names[name]}). "
                "Give every set a unique name."
            )
        seen_names[name] = lineno
        meta = _parse_desc(cells[1] if len(cells) > 1 else "")
        base, direction = name, "up"
        if directional:
            upper = name.upper()
            for suffix, d in ((_UP, "up"), (_DN, "down"), ("_DOWN", "down")):
                if upper.endswith(suffix) and len(name) > len(suffix):
                    base, direction = name[: -len(suffix)], d
                    break
        groups.setdefault(base, []).append((direction, genes, meta, lineno))
    sigs = []
    for base, parts in groups.items():
        rows: list[tuple[str, str, float]] = []
        meta: dict[str, str] = {}
        where: dict[str, tuple[str, int]] = {}
        dirs_seen = set()
        for direction, genes, m, lineno in parts:
            if direction in dirs_seen:
                raise SignatureError(
                    f"{path}:{lineno}: signature {base!r} has two {direction.upper()} sets. Merge them into one line."
                )
            dirs_seen.add(direction)
            weights = _weights(m, genes, path, lineno)
            meta = {**m, **meta}
            for g, w in zip(genes, weights):
                if g in where:
                    d0, l0 = where[g]
                    what = "both up and down" if d0 != direction else "listed twice"
                    raise SignatureError(
                        f"{path}:{lineno}: gene {g} is {what} in signature {base!r} (also on line {l0}). "
                        "List each gene once, in one direction."
                    )
                where[g] = (direction, lineno)
                rows.append((g, direction, w))
        # keep the order of the file for up genes then down genes
        rows.sort(key=lambda r: 0 if r[1] == "up" else 1)
        genes_df = pd.DataFrame(rows, columns=["symbol", "direction", "weight"])
        mc = meta.get("min_coverage")
        sigs.append(
            Signature(
                id=base,
                version=meta.get("version") or "0.0.0",
                name=meta.get("name", ""),
                parent=meta.get("parent") or None,
                mechanism=meta.get("mechanism") or None,
                min_coverage=float(mc) if mc else min_coverage,
                feature_type=meta.get("feature_type") or "gene",
                genes=genes_df,
                source=str(path),
            )
        )
    return SignatureSet(sigs, collection=path.stem, metadata={"source": str(path)})


def _parse_desc(desc: str) -> dict[str, str]:
    if not desc.startswith(_MARK + "="):
        return {}
    try:
        return dict(urllib.parse.parse_qsl(desc, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        return {}


def _weights(meta: dict[str, str], genes: list[str], path: Path, lineno: int) -> list[float]:
    text = meta.get("weights")
    if not text:
        return [1.0] * len(genes)
    try:
        w = [float(x) for x in text.split(",")]
    except ValueError:
        raise SignatureError(
            f"{path}:{lineno}: unreadable weights in the description. Remove `weights=` or fix it."
        ) from None
    if len(w) != len(genes):
        raise SignatureError(
            f"{path}:{lineno}: the description gives {len(w)} weights for {len(genes)} genes. "
            "Give one weight per gene, or remove `weights=` to use weight 1."
        )
    return w


# ------------------------------------------------------------------------------------ long tables
def to_long(signatures: SignatureSet | Signature, *, extra: bool = False) -> pd.DataFrame:
    """Return the decoupler-style long table ``source, target, weight`` with signed weights.

    Parameters
    ----------
    signatures
        A :class:`SignatureSet` or a single :class:`Signature`.
    extra
        Also return the provenance columns of the gene tables (``hgnc_id``, ``ensembl_gene_id``,
        ``evidence_source``, ``evidence``, ``confidence``, ``note``) after ``weight``.

    Examples
    --------
    >>> import resistscore as rs
    >>> rs.sig.to_long(rs.sig.load({"apoptosis": {"BCL2": 1.0, "BAX": -0.5}}))
          source target  weight
    0  apoptosis   BCL2     1.0
    1  apoptosis    BAX    -0.5
    """
    sigs = _as_set(signatures)
    net = sigs.to_network()
    if extra:
        cols = ["hgnc_id", "ensembl_gene_id", "evidence_source", "evidence", "confidence", "note"]
        parts = [s.genes[cols] for s in sigs]
        if parts:
            net = pd.concat([net, pd.concat(parts, ignore_index=True)], axis=1)
        else:
            net = net.reindex(columns=[*net.columns, *cols])
    return net


def from_long(
    net: pd.DataFrame,
    *,
    source: str = "source",
    target: str = "target",
    weight: str | None = "weight",
    mor: str | None = "mor",
    min_coverage: float | Mapping[str, float] = 0.5,
    collection: str = "user",
) -> SignatureSet:
    """Build a :class:`SignatureSet` from a long table (decoupler's network format).

    A signature whose dotted id extends another's (``efflux.abcb1`` beside ``efflux``) gets that one
    as its parent.

    Parameters
    ----------
    net
        One row per (signature, gene): columns ``source`` (signature), ``target`` (gene) and
        optionally ``weight`` (signed: negative = down in resistance). Extra provenance columns with
        the names of the gene-table columns (``evidence``, ``note``, ...) are kept.
    source, target, weight
        Column names. ``weight=None`` (or a missing ``weight`` column) gives every gene weight +1.
    mor
        Column of the mode of regulation (+1 / -1) of decoupler-v1 and decoupleR networks (DoRothEA's
        ``mor``). As in decoupleR (``.mor`` x ``.likelihood``), the signed weight of a gene is
        ``mor x weight`` when ``weight`` holds magnitudes (no negative value), ``weight`` when it is
        already signed and agrees with ``mor`` in sign (decoupler 2's DoRothEA: ``weight = mor /
        level``), and ``mor`` alone without a ``weight`` column. A signed ``weight`` that contradicts
        ``mor`` is an error. ``mor=None`` ignores the column.
    min_coverage
        Minimal coverage for all signatures, or a mapping id -> value.
    collection
        Name of the returned collection.

    Raises
    ------
    SignatureError
        If a column is missing, a name is empty, a weight is zero or not finite, or a gene appears
        twice in a signature.

    Examples
    --------
    >>> import pandas as pd
    >>> import resistscore as rs
    >>> net = pd.DataFrame(
    ...     {
    ...         "source": ["efflux", "efflux", "apoptosis"],
    ...         "target": ["ABCB1", "SLC29A1", "BCL2"],
    ...         "weight": [1, -0.5, 1],
    ...     }
    ... )
    >>> sigs = rs.sig.from_long(net)
    >>> sigs["efflux"].up, sigs["efflux"].down
    (['ABCB1'], ['SLC29A1'])
    """
    if not isinstance(net, pd.DataFrame):
        raise SignatureError(f"from_long needs a pandas DataFrame; got {type(net).__name__}.")
    missing = [c for c in (source, target) if c not in net.columns]
    if missing:
        raise SignatureError(
            f"the long table has no column(s) {', '.join(map(repr, missing))} (columns: {', '.join(map(str, net.columns))}). "
            "Name the columns source, target, weight, or pass source=/target=/weight= with your names."
        )
    df = net.reset_index(drop=True)
    src = df[source].astype("string")
    tgt = df[target].astype("string")
    bad = src.isna() | (src.str.strip() == "") | tgt.isna() | (tgt.str.strip() == "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SignatureError(
            f"row {i} of the long table has an empty {source!r} or {target!r}. Fill in or drop it."
        )
    w = _signed_weights(df, weight, mor)
    bad_w = ~np.isfinite(w) | (w == 0)
    if bad_w.any():
        i = int(np.flatnonzero(bad_w)[0])
        raise SignatureError(
            f"row {i} of the long table ({src.iat[i]}, {tgt.iat[i]}) has weight {float(w[i])!r}. "
            "Weights must be finite and non-zero (negative = down in resistance); drop genes with weight 0."
        )
    extra_cols = [c for c in ("hgnc_id", "ensembl_gene_id", "evidence_source", "evidence", "confidence", "note")
                  if c in df.columns and c not in (source, target, weight)]  # fmt: skip
    genes = pd.DataFrame(
        {
            "sig": src.str.strip().to_numpy(dtype=object),
            "symbol": tgt.str.strip().to_numpy(dtype=object),
            "direction": np.where(w < 0, "down", "up"),
            "weight": np.abs(w),
        }
    )
    for c in extra_cols:
        genes[c] = df[c].to_numpy()
    sigs = []
    groups = list(genes.groupby("sig", sort=False))
    names = {str(sid) for sid, _ in groups}
    for sid, g in groups:
        mc = min_coverage.get(sid, 0.5) if isinstance(min_coverage, Mapping) else min_coverage
        parent = _dotted_parent(str(sid), names)
        sigs.append(
            Signature(
                id=str(sid), parent=parent, mechanism=None, min_coverage=mc, genes=g.drop(columns="sig")
            )
        )
    return SignatureSet(sigs, collection=collection)


def _numbers(df: pd.DataFrame, col: str) -> np.ndarray:
    try:
        return to_float_array(df[col])
    except (TypeError, ValueError) as exc:
        raise SignatureError(f"column {col!r} must hold numbers (signed weights): {exc}.") from None


def _signed_weights(df: pd.DataFrame, weight: str | None, mor: str | None) -> np.ndarray:
    """Signed weight of every row from the ``weight`` and ``mor`` columns (see :func:`from_long`)."""
    w = _numbers(df, weight) if weight is not None and weight in df.columns else None
    m = _numbers(df, mor) if mor is not None and mor in df.columns and mor != weight else None
    if m is None:
        return np.ones(len(df)) if w is None else w
    if w is None:
        return m
    with np.errstate(invalid="ignore"):
        if not (w < 0).any():
            return m * w  # magnitudes (decoupleR's likelihood) times the mode of regulation
        clash = (np.sign(w) != np.sign(m)) & np.isfinite(w) & np.isfinite(m) & (w != 0) & (m != 0)
    if clash.any():
        i = int(np.flatnonzero(clash)[0])
        raise SignatureError(
            f"row {i} of the long table has {weight}={float(w[i])!r} but {mor}={float(m[i])!r}: the signs disagree. "
            f"Give unsigned magnitudes in {weight!r} (the sign then comes from {mor!r}), or drop one of the columns."
        )
    return w  # already signed, in agreement with mor (decoupler 2 networks keep both)


def _dotted_parent(sid: str, names: set[str]) -> str | None:
    """Return the longest proper dotted prefix of ``sid`` that is itself a signature (``a.b.c`` -> ``a.b`` or ``a``)."""
    parts = sid.split(".")
    for k in range(len(parts) - 1, 0, -1):
        cand = ".".join(parts[:k])
        if cand in names:
            return cand
    return None


def from_dict(
    data: Mapping[str, Any], *, min_coverage: float = 0.5, collection: str = "user"
) -> SignatureSet:
    """Build a :class:`SignatureSet` from ``{name: [genes]}``, ``{name: {gene: signed weight}}`` or ``{name: Signature}``.

    In a list, a gene with a trailing ``-`` is a down gene and a trailing ``+`` marks an up gene
    (UCell's convention: ``["ABCB1", "SLC29A1-"]``). As in :func:`from_long`, dotted names nest under
    an existing prefix (``efflux.abcb1`` under ``efflux``).

    Examples
    --------
    >>> import resistscore as rs
    >>> sigs = rs.sig.from_dict({"efflux": ["ABCB1", "ABCG2"], "apoptosis": {"BCL2": 1, "BAX": -1}})
    >>> sigs["efflux"].weights.to_dict(), sigs["apoptosis"].down
    ({'ABCB1': 1.0, 'ABCG2': 1.0}, ['BAX'])
    """
    if not isinstance(data, Mapping):
        raise SignatureError(f"expected a dict of signatures; got {type(data).__name__}.")
    sigs: list[Signature] = []
    rows = []
    for name, genes in data.items():
        if not isinstance(name, str) or not name.strip():
            raise SignatureError(f"signature names must be non-empty strings; got {name!r}.")
        if isinstance(genes, Signature):
            sigs.append(genes if genes.id == name else genes.replace(id=name))
            continue
        if isinstance(genes, Mapping):
            items = list(genes.items())
        elif isinstance(genes, (str, bytes)) or not isinstance(genes, Iterable):
            raise SignatureError(
                f"signature {name!r}: give a list of genes or a dict {{gene: signed weight}}; got {type(genes).__name__}."
            )
        else:
            items = [_suffixed(g) for g in genes]
        if not items:
            raise SignatureError(f"signature {name!r} has no genes. Give at least one gene.")
        for g, w in items:
            if (
                isinstance(w, bool)
                or not isinstance(w, (int, float, np.integer, np.floating))
                or not math.isfinite(w)
            ):
                raise SignatureError(
                    f"signature {name!r}: gene {g!r} has weight {w!r}; give a finite number."
                )
            rows.append((name, g, float(w)))
    out = from_long(pd.DataFrame(rows, columns=["source", "target", "weight"]), min_coverage=min_coverage,
                    collection=collection) if rows else SignatureSet(collection=collection)  # fmt: skip
    order = list(data)
    merged = {s.id: s for s in [*sigs, *out]}
    return SignatureSet([merged[k] for k in order], collection=collection)


def _suffixed(gene: Any) -> tuple[Any, float]:
    """``"BAX-"`` -> ``("BAX", -1.0)``, ``"BCL2+"`` -> ``("BCL2", 1.0)`` (UCell's convention), else weight 1."""
    if isinstance(gene, str) and len(gene) > 1 and gene[-1] in "+-":
        return gene[:-1], -1.0 if gene[-1] == "-" else 1.0
    return gene, 1.0


def _as_set(signatures: Any) -> SignatureSet:
    if isinstance(signatures, SignatureSet):
        return signatures
    if isinstance(signatures, Signature):
        return SignatureSet([signatures])
    raise SignatureError(f"expected a SignatureSet or Signature; got {type(signatures).__name__}.")
