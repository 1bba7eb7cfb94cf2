"""Rows of an AnnData file with their genes harmonised on the fly: what the CLI scores."""

from __future__ import annotations

from pathlib import Path

from resistscore import pp
from resistscore.tl._chunks import MappedSource, RowSource, from_file

__all__ = ["harmonized_rows"]


def harmonized_rows(path) -> RowSource:
    """Return the rows of an ``.h5ad`` file or ``.zarr`` store with HGNC genes, read in blocks.

    The gene identifiers are harmonised on their names alone (:meth:`resistscore.pp.GeneCollapse.from_names`:
    aliases, Ensembl ids and probe sets mapped, duplicates averaged), without reading the matrix; each
    block of rows read while scoring goes through the same collapse. Scores of the result equal loading,
    harmonising (:func:`resistscore.pp.harmonize_genes`) and scoring the file in memory, with a fraction
    of the memory. The cells' annotations (``obs``, the keys of ``uns`` and ``obsm``) come along for the
    choice of the default method. This is what ``resistscore score cells.h5ad`` scores.

    Parameters
    ----------
    path
        An ``.h5ad`` file, an AnnData ``.zarr`` store, or a list of them (shards with the same genes).

    Returns
    -------
    RowSource
        Pass it to :func:`resistscore.tl.score` (which returns a :class:`ScoreResult`), with or without
        a Dask ``client``.
    """
    src = from_file(path)
    collapse = pp.GeneCollapse.from_names(src.var_names)
    mapped = MappedSource(src, collapse, collapse.var_names)
    first = Path(path[0] if isinstance(path, (list, tuple)) else path)
    mapped.annotations = _annotations(first)
    return mapped


def _annotations(path: Path) -> dict:
    """Return ``obs`` and the keys of ``uns`` and ``obsm`` of an AnnData file (for the single-cell check)."""
    try:
        from anndata.io import read_elem
    except ImportError:  # anndata < 0.11
        from anndata.experimental import read_elem
    if path.suffix.lower() == ".zarr":
        import zarr

        g = zarr.open_group(str(path), mode="r")
        return _annotations_of(g, read_elem)
    import h5py

    with h5py.File(path, "r") as g:
        return _annotations_of(g, read_elem)


def _annotations_of(g, read_elem) -> dict:
    out: dict = {}
    if "obs" in g:
        out["obs"] = read_elem(g["obs"])
    for key in ("uns", "obsm"):
        if key in g:
            out[key] = dict.fromkeys(g[key].keys())
    return out
