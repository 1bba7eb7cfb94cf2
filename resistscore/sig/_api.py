"""Public entry points: ``load``, ``list``, ``show`` and ``export``."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from resistscore._atomic import atomic_write
from resistscore._errors import SignatureError
from resistscore._validate import check_choice
from resistscore.io import neutralize_formulas, restore_formulas
from resistscore.sig._collection import YAML_NAME, load_shipped, read_collection
from resistscore.sig._confounders import CONFOUNDER_MECHANISM, wants_confounders, with_confounders
from resistscore.sig._convert import from_dict, from_long, read_gmt, to_long, write_gmt
from resistscore.sig._drugs import drug_signature
from resistscore.sig._manifest import build_manifest
from resistscore.sig._model import GENE_COLUMNS, Signature, SignatureSet
from resistscore.sig._overlap import exclusive as exclusive_view

__all__ = ["describe", "export", "list_signatures", "load", "show"]

_LEVELS = ("all", "mechanism", "sub")
_FORMATS = ("gmt", "tsv", "yaml-folder")
_FILE_SUFFIXES = (".gmt", ".gmt.gz", ".yaml", ".yml", ".tsv", ".tsv.gz", ".csv", ".csv.gz", ".txt")
_FOLDER_ID = re.compile(
    r"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*$"
)  # as in signatures.schema.json


def load(
    source: Any = None,
    *,
    level: str = "all",
    mechanism: str | list[str] | None = None,
    ids: str | list[str] | None = None,
    feature_type: str | None = "gene",
    exclusive: bool = False,
    confounders: bool = False,
) -> SignatureSet:
    """Load signatures: the shipped mechanism signatures, or the user's own.

    Parameters
    ----------
    source
        ``None`` (default): the mechanism signatures shipped with resistscore, checked against
        their manifest. Otherwise one of

        * a folder holding ``signatures.yaml`` (the resistscore format), or the YAML file itself;
        * a GMT file (``.gmt``, ``.gmt.gz``): ``<id>_UP`` / ``<id>_DN`` pairs are read as directional
          signatures, other sets as up-sets of weight 1 (see :func:`read_gmt`);
        * a long table: a DataFrame or a ``.tsv`` / ``.csv`` file with columns ``source``, ``target``
          and optionally a signed ``weight`` (decoupler's network format, see :func:`from_long`);
        * a dict ``{name: [genes]}``, ``{name: {gene: signed weight}}`` or ``{name: Signature}``;
        * a :class:`SignatureSet` or :class:`Signature` (filtered by the other arguments);
        * shipped signature ids: a list (``["efflux_abc", "apoptosis"]``) or a comma-separated string
          (``"efflux_abc,apoptosis"``) that is not the path of an existing file.

        This is the one entry point for signatures: :func:`resistscore.tl.score` and the command line
        read theirs through it (one GMT reader, one dict and table parser).
    level
        ``"all"`` (default), ``"mechanism"`` (top-level signatures) or ``"sub"`` (sub-signatures).
    mechanism
        Keep only these top-level mechanism id(s) and their sub-signatures.
    ids
        Keep only these signature id(s) (a list or a comma-separated string).
    feature_type
        ``"gene"`` (default: signatures over HGNC symbols), ``"mirna"`` (the miRNA-level signature)
        or ``None`` (both).
    exclusive
        Return the exclusive view of the top-level mechanisms (every gene scored in exactly one
        mechanism; sub-signatures left out), for comparing mechanisms without double counting; see
        :func:`exclusive` for the rule. Default: the overlapping signatures as curated.
    confounders
        Also return the confounder signatures (``confounder.proliferation``, ``confounder.stromal``,
        ``confounder.immune``; see :func:`confounders`). They are never in the default set; asking for
        one of their ids or for ``mechanism="confounder"`` adds them too. Shipped collection only.

    Returns
    -------
    SignatureSet
        A fresh object: modifying it never changes what the next ``load()`` returns.

    Raises
    ------
    SignatureError
        If the source cannot be read; the message names the file, line and field and how to fix it.

    Examples
    --------
    The shipped mechanism signatures, top level only:

    >>> import resistscore as rs
    >>> sigs = rs.sig.load(level="mechanism")
    >>> "efflux_abc" in sigs and sigs.collection
    'resistscore-mechanisms'
    >>> "ABCB1" in sigs["efflux_abc"].up
    True

    User signatures from a dict:

    >>> import resistscore as rs
    >>> sigs = rs.sig.load({"efflux": ["ABCB1", "ABCG2"], "apoptosis": {"BCL2": 1.0, "BAX": -1.0}})
    >>> sigs
    SignatureSet 'user' v0.0.0: 2 signature(s)
           id name  n_up  n_down  min_coverage
       efflux          2       0           0.5
    apoptosis          1       1           0.5
    """
    check_choice("level", level, _LEVELS)
    if feature_type is not None:
        check_choice("feature_type", feature_type, ("gene", "mirna"))
    if isinstance(ids, str):
        ids = _split_ids(ids)
    shipped_ids = _as_ids(source)
    if shipped_ids is not None:
        sigs = load_shipped()
        if wants_confounders(shipped_ids, None):
            sigs = with_confounders(sigs)
        sigs = sigs.select(shipped_ids)
        feature_type = None  # ids asked for by name are kept whatever their feature type
        source = None  # the shipped collection: confounders= and exclusive= apply to it as to load()
    else:
        sigs = _read_source(source)
    if confounders or (source is None and shipped_ids is None and wants_confounders(ids, mechanism)):
        if source is not None:
            raise SignatureError(
                "confounders=True adds the shipped confounder signatures to the shipped collection. To score them "
                "beside your own signatures, combine the two sets: rs.sig.SignatureSet([*rs.sig.load(mine), "
                "*rs.sig.confounders()])."
            )
        if not any(s.id.startswith(CONFOUNDER_MECHANISM + ".") for s in sigs):
            sigs = with_confounders(sigs)
    if exclusive:
        if level == "sub":
            raise SignatureError(
                "the exclusive view holds top-level mechanisms only; use level='all' or 'mechanism' with "
                "exclusive=True, or exclusive=False for sub-signatures."
            )
        sigs = exclusive_view(sigs)
    return sigs.select(ids, level=level, mechanism=mechanism, feature_type=feature_type)


def _split_ids(text: str) -> list[str]:
    """``"efflux_abc, apoptosis"`` -> ``["efflux_abc", "apoptosis"]``."""
    out = [t.strip() for t in text.split(",") if t.strip()]
    if not out:
        raise SignatureError(
            f"{text!r} names no signature. Give signature ids (e.g. 'efflux_abc,apoptosis'; see rs.sig.list()), "
            "or None for all shipped signatures."
        )
    return out


def _as_ids(source: Any) -> list[str] | None:
    """Signature ids when ``source`` names shipped signatures.

    (a list of ids, or a comma-separated string that is not an existing file or folder), else ``None``.
    """
    if isinstance(source, (list, tuple)) and source and all(isinstance(x, str) for x in source):
        return [x.strip() for x in source]
    if isinstance(source, str) and not source.strip():
        return _split_ids(source)  # raises: an empty string names nothing (and is not the folder ".")
    if isinstance(source, str) and not Path(source).exists():
        lower = source.strip().lower()
        if source.strip() and (lower.endswith(_FILE_SUFFIXES) or "/" in source or os.sep in source):
            return None  # a file name: "not found" below
        return _split_ids(source)
    return None


def _read_source(source: Any) -> SignatureSet:
    if source is None:
        return load_shipped()
    if isinstance(source, SignatureSet):
        return source
    if isinstance(source, Signature):
        return SignatureSet([source])
    if isinstance(source, pd.DataFrame):
        return from_long(source)
    if isinstance(source, Mapping):
        return from_dict(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            if not (path / YAML_NAME).is_file():
                raise SignatureError(
                    f"{path} has no {YAML_NAME}. Point to a folder in the resistscore signature format "
                    "(signatures.yaml + gene TSVs), or to a GMT file or long table."
                )
            return read_collection(path)
        if not path.is_file():
            raise SignatureError(f"signature source {str(path)!r} not found. Check the path.")
        name = path.name.lower()
        if name.endswith((".yaml", ".yml")):
            return read_collection(path.parent, yaml_name=path.name, display_root=str(path.parent))
        if name.endswith((".gmt", ".gmt.gz")):
            return read_gmt(path)
        if name.endswith((".tsv", ".tsv.gz", ".csv", ".csv.gz", ".txt")):
            sep = "," if ".csv" in name else "\t"
            if name.endswith(".txt") and not _has_long_header(path, sep):
                return read_gmt(path)  # GMT files are often saved as .txt
            try:
                # gene names such as NA or NULL are genes, not missing values; weights read back exactly
                net = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
                net = restore_formulas(net)  # undo what export() did against spreadsheet formulas
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                raise SignatureError(
                    f"{path}: cannot read the long table ({exc}). Save it as a {sep!r}-separated table."
                ) from None
            return from_long(net)
        raise SignatureError(
            f"{path}: unknown signature file type. Use a folder with signatures.yaml, a .yaml, a .gmt, or a "
            ".tsv/.csv long table (source, target, weight)."
        )
    raise SignatureError(
        f"cannot read signatures from a {type(source).__name__}. Pass None (shipped signatures), a path, a "
        "DataFrame (source, target, weight), a dict, or a SignatureSet."
    )


def _has_long_header(path: Path, sep: str) -> bool:
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = next((line for line in fh if line.strip()), "")
    cols = {c.strip().lower() for c in first.rstrip("\n").split(sep)}
    return {"source", "target"} <= cols


def list_signatures(
    source: Any = None, *, level: str = "all", feature_type: str | None = None
) -> pd.DataFrame:
    """Return a summary table of the signatures: one row per signature.

    Columns: ``id``, ``name``, ``parent``, ``mechanism``, ``level``, ``n_up``, ``n_down``, ``drugs``,
    ``version``, ``min_coverage``, ``feature_type``. Exposed as ``rs.sig.list``.

    Parameters
    ----------
    source
        As in :func:`load` (default: the shipped collection).
    level
        ``"all"``, ``"mechanism"`` or ``"sub"``.
    feature_type
        ``None`` (default: gene- and miRNA-level signatures), ``"gene"`` or ``"mirna"``.

    Examples
    --------
    >>> import resistscore as rs
    >>> rs.sig.list({"efflux": ["ABCB1", "ABCG2"], "efflux.abcb1": ["ABCB1"]})[
    ...     ["id", "parent", "level", "n_up"]
    ... ]
                 id  parent      level  n_up
    0        efflux          mechanism     2
    1  efflux.abcb1  efflux        sub     1
    """
    return load(source, level=level, feature_type=feature_type).table()


def show(signature_id: str, source: Any = None) -> pd.DataFrame:
    """Return the gene table of one signature, with its evidence.

    Parameters
    ----------
    signature_id
        A signature id (``rs.sig.list()`` lists them), or ``drug.<name>`` for a drug-specific
        signature (see :func:`drug_signature`).
    source
        As in :func:`load` (default: the shipped collection).

    Returns
    -------
    pandas.DataFrame
        Columns ``symbol``, ``direction``, ``weight``, ``evidence_source``, ``evidence``, ``confidence``,
        ``note``, ``hgnc_id``, ``ensembl_gene_id``; ``attrs`` holds the signature's metadata.

    Examples
    --------
    >>> import resistscore as rs
    >>> rs.sig.show("apoptosis", {"apoptosis": {"BCL2": 1.0, "BAX": -0.5}})[["symbol", "direction", "weight"]]
      symbol direction  weight
    0   BCL2        up     1.0
    1    BAX      down     0.5
    """
    if source is None and isinstance(signature_id, str) and signature_id.startswith("drug."):
        sig = drug_signature(signature_id.split(".", 1)[1])
    else:
        # asking for the id (not indexing the default set) also finds the confounder signatures
        sig = load(source, feature_type=None, ids=[signature_id])[signature_id]
    cols = ["symbol", "direction", "weight", "evidence_source", "evidence", "confidence", "note", "hgnc_id",
            "ensembl_gene_id"]  # fmt: skip
    out = sig.genes[cols].copy()
    out.attrs.update(sig.metadata())
    return out


def describe(signature_id: str, source: Any = None) -> str:
    """Return a plain-text description of one signature: metadata, references and the gene table.

    Used by ``resistscore signatures show``; :func:`show` returns the gene table as a DataFrame.

    Parameters
    ----------
    signature_id
        A signature id, or ``drug.<name>`` for a drug-specific signature.
    source
        As in :func:`load` (default: the shipped collection).

    Examples
    --------
    >>> import resistscore as rs
    >>> text = rs.sig.describe("apoptosis", {"apoptosis": {"BCL2": 1.0, "BAX": -0.5}})
    >>> print(text.splitlines()[0])
    apoptosis v0.0.0
    """
    table = show(signature_id, source)
    meta = table.attrs
    sigs = (
        None if str(signature_id).startswith("drug.") and source is None else load(source, feature_type=None)
    )
    children = [s.id for s in sigs if s.parent == signature_id] if sigs is not None else []
    lines = [f"{meta['id']} v{meta['version']}" + (f": {meta['name']}" if meta["name"] else "")]
    fields = [
        ("mechanism", meta["mechanism"]),
        ("parent", meta["parent"] or "-"),
        ("sub-signatures", ", ".join(children) or "-"),
        ("feature type", meta["feature_type"]),
        (
            "genes",
            f"{int((table['direction'] == 'up').sum())} up, {int((table['direction'] == 'down').sum())} down",
        ),
        ("min coverage", f"{meta['min_coverage']:g}"),
        ("review section", meta["review_section"] or "-"),
        ("drugs", ", ".join(meta["drugs"]) or "-"),
        ("description", meta["description"] or "-"),
    ]
    width = max(len(k) for k, _ in fields)
    lines += [f"  {k.ljust(width)}  {v}" for k, v in fields]
    if meta["references"]:
        lines.append("  references:")
        lines += [f"    - {r}" for r in meta["references"]]
    cols = ["symbol", "direction", "weight", "confidence", "evidence_source", "evidence"]
    lines += ["", *_text_table(table[cols])]
    return "\n".join(lines)


def _text_table(df: pd.DataFrame, max_width: int = 100) -> list[str]:
    """Left-aligned text columns, right-aligned numbers (pandas right-aligns long text, hard to read)."""
    cells = {}
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]):
            cells[c] = [f"{v:g}" for v in df[c]]
        else:
            cells[c] = [v if len(v) <= max_width else v[: max_width - 3] + "..." for v in df[c].astype(str)]
    widths = {c: max([len(c), *map(len, cells[c])]) for c in df.columns}
    numeric = {c for c in df.columns if pd.api.types.is_float_dtype(df[c])}

    def fmt(c: str, v: str) -> str:
        return v.rjust(widths[c]) if c in numeric else v.ljust(widths[c])

    out = ["  ".join(fmt(c, c) for c in df.columns).rstrip()]
    for i in range(len(df)):
        out.append("  ".join(fmt(c, cells[c][i]) for c in df.columns).rstrip())
    return out


def export(
    signatures: SignatureSet | Signature,
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write signatures to a file or folder, atomically.

    Parameters
    ----------
    signatures
        A :class:`SignatureSet` (e.g. ``rs.sig.load()``) or a :class:`Signature`.
    path
        Output path.
    format
        ``"gmt"`` (``<id>_UP`` / ``<id>_DN`` sets, see :func:`write_gmt`), ``"tsv"`` (long table
        ``source, target, weight`` with signed weights plus the provenance columns; text a spreadsheet
        would run as a formula gets a leading ``'``, undone by :func:`load`) or ``"yaml-folder"``
        (the resistscore format: ``signatures.yaml``, ``genes/<id>.tsv`` and ``manifest.tsv``, readable
        by :func:`load`). Default: from the suffix of ``path`` (``.gmt``, ``.tsv``; no suffix: folder).
    overwrite
        Replace an existing output. Without it an existing file or non-empty folder raises.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import resistscore as rs
    >>> sigs = rs.sig.load({"apoptosis": {"BCL2": 1.0, "BAX": -0.5}})
    >>> out = rs.sig.export(sigs, pathlib.Path(tempfile.mkdtemp()) / "mysigs")
    >>> sorted(p.name for p in out.rglob("*"))
    ['apoptosis.tsv', 'genes', 'manifest.tsv', 'signatures.yaml']
    >>> rs.sig.load(out)["apoptosis"].weights.to_dict()
    {'BCL2': 1.0, 'BAX': -0.5}
    """
    sigs = SignatureSet([signatures]) if isinstance(signatures, Signature) else signatures
    if not isinstance(sigs, SignatureSet):
        raise SignatureError(f"export needs a SignatureSet or Signature; got {type(signatures).__name__}.")
    path = Path(path)
    if format is None:
        name = path.name.lower()
        format = (
            "gmt"
            if ".gmt" in name
            else "tsv"
            if name.endswith((".tsv", ".tsv.gz", ".txt"))
            else "yaml-folder"
        )
    check_choice("format", format, _FORMATS)
    exists = path.is_dir() and any(path.iterdir()) if format == "yaml-folder" else path.exists()
    if exists and not overwrite:
        raise SignatureError(f"{path} already exists. Choose another path or pass overwrite=True.")
    if format == "gmt":
        return write_gmt(sigs, path)
    if format == "tsv":
        net = to_long(sigs, extra=True)
        _check_cells(net)
        net = neutralize_formulas(net)  # text cells that a spreadsheet would run get a leading '

        text = net.to_csv(sep="\t", index=False, lineterminator="\n")
        if path.name.lower().endswith(".gz"):
            with atomic_write(path, "wb") as fh:
                fh.write(gzip.compress(text.encode("utf-8"), mtime=0))
        else:
            with atomic_write(path) as fh:
                fh.write(text)
        return path
    bad = [s.id for s in sigs if not _FOLDER_ID.match(s.id)]
    if bad:
        raise SignatureError(
            f"signature id(s) {', '.join(map(repr, bad[:5]))} cannot be used in a yaml-folder (ids are letters, digits, "
            "_ and -, starting with a letter, with dots for the hierarchy). Rename them first, e.g. "
            "rs.sig.load({new_id: sigs[old_id] for ...}), or export as gmt or tsv."
        )
    return _write_folder(sigs, path)


def _check_cells(df: pd.DataFrame) -> None:
    for col in df.columns:
        if df[col].dtype == object:
            bad = df[col].astype(str).str.contains(r"[\t\r\n]", regex=True)
            if bad.any():
                raise SignatureError(
                    f"column {col!r} has a value with a tab or line break ({df[col][bad].iloc[0]!r}); "
                    "TSV cells cannot hold them. Replace them with spaces."
                )


def _write_folder(sigs: SignatureSet, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        (tmp / "genes").mkdir()
        entries = []
        for s in sigs:
            rel = f"genes/{s.id}.tsv"
            genes = s.genes[list(GENE_COLUMNS)]
            _check_cells(genes)
            with atomic_write(tmp / rel) as fh:
                genes.to_csv(fh, sep="\t", index=False, lineterminator="\n")
            meta = s.metadata()
            meta["genes"] = rel
            entries.append(meta)
        doc: dict[str, Any] = {
            "schema_version": 1,
            "collection": sigs.collection or "user",
            "version": sigs.version,
        }
        if isinstance(sigs.metadata.get("review"), dict):
            doc["review"] = sigs.metadata["review"]
        doc["signatures"] = entries
        with atomic_write(tmp / YAML_NAME) as fh:
            yaml.safe_dump(doc, fh, sort_keys=False, allow_unicode=True, default_flow_style=False, width=110)
        build_manifest(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
