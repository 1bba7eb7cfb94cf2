"""Confounder signatures: proliferation, stromal and immune content, from published gene lists.

They are not resistance mechanisms. They measure the two largest confounders of expression signatures in
tumours (how fast the cells divide, and how much of the sample is stroma or immune cells), so that a
mechanism score can be read beside them. They live in ``signatures/confounders/`` (their own
``confounders.yaml`` in the signature format, covered by the same manifest), are never part of the default
``rs.sig.load()`` set, and are loaded on request: ``rs.sig.confounders()``,
``rs.sig.load(confounders=True)``, or by asking for their ids or for ``mechanism="confounder"``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from resistscore._errors import SignatureError
from resistscore._resources import signatures_root
from resistscore.sig._collection import ParsedCollection, _stat_key, parse_collection, shipped_root
from resistscore.sig._files import Resource
from resistscore.sig._manifest import read_manifest, require_listed
from resistscore.sig._model import SignatureSet
from resistscore.sig._problems import ValidationReport

__all__ = [
    "CONFOUNDER_MECHANISM",
    "confounders",
    "parse_confounders",
    "wants_confounders",
    "with_confounders",
]

#: The ``mechanism`` of every confounder signature (ids are ``confounder.<name>``).
CONFOUNDER_MECHANISM = "confounder"
FOLDER = "confounders"
YAML = "confounders.yaml"
_PROVENANCE = ("hgnc_id", "ensembl_gene_id", "evidence_source", "evidence", "confidence")


def parse_confounders(root: Resource, report: ValidationReport, display_root: str) -> ParsedCollection | None:
    """Parse ``root/confounders/confounders.yaml`` (if present) and check the rules of confounder signatures.

    Ids are ``confounder.<name>`` with ``parent: null`` and ``mechanism: confounder`` (they stand beside
    the mechanisms, not under one); every entry names its published source and every gene row carries its
    identifiers and evidence. Problems go to ``report``; returns None when the folder has no confounders.
    """
    folder = root / FOLDER
    if not (folder / YAML).is_file():
        return None
    display = f"{display_root}/{FOLDER}"
    # lenient: dotted ids without a parent are allowed here; full provenance is checked below instead
    pc = parse_collection(folder, report, yaml_name=YAML, display_root=display, lenient=True)
    report.checks.append(f"{FOLDER}/{YAML}: confounder ids, provenance of every signature and gene")
    for sid, s in pc.signatures.items():
        line = pc.entry_line(sid, "id")
        if not sid.startswith(CONFOUNDER_MECHANISM + ".") or s.parent is not None:
            report.error(pc.yaml_display, line, f"signatures[{sid}].id",
                         f"confounder signature {sid!r} must be named confounder.<name> with `parent: null`.",
                         f"rename it confounder.{sid.split('.')[-1]} and set `parent: null`")  # fmt: skip
        if s.mechanism != CONFOUNDER_MECHANISM:
            report.error(pc.yaml_display, pc.entry_line(sid, "mechanism"), f"signatures[{sid}].mechanism",
                         f"mechanism is {s.mechanism!r}.", f"write `mechanism: {CONFOUNDER_MECHANISM}`")  # fmt: skip
        for key in ("name", "description"):
            if not str(getattr(s, key)).strip():
                report.error(pc.yaml_display, pc.entry_line(sid, key), f"signatures[{sid}].{key}",
                             f"the {key} is empty.", "say what the signature measures")  # fmt: skip
        if not s.references:
            report.error(pc.yaml_display, pc.entry_line(sid, "references"), f"signatures[{sid}].references",
                         "no reference is given.", "cite the published gene list and where the file was taken from")  # fmt: skip
        file, lines = pc.gene_lines[sid]
        for ln, row in zip(lines, s.genes.to_dict("records")):
            for col in _PROVENANCE:
                if not str(row[col]).strip():
                    report.error(file, ln, col, f"{row['symbol']} has no {col}.",
                                 "fill it in (identifiers with scripts/fill_signature_ids.py)")  # fmt: skip
    return pc


@functools.lru_cache(maxsize=4)
def _load_cached(key: tuple) -> SignatureSet:
    root = shipped_root()  # checks every shipped file against the manifest
    report = ValidationReport("signatures/")
    pc = parse_confounders(root, report, "signatures")
    if pc is None:
        raise SignatureError(
            f"signatures/{FOLDER}/{YAML} is missing from this installation. Reinstall resistscore "
            "(in a source checkout: restore the file from git)."
        )
    manifest = read_manifest(root)
    used = [f"{FOLDER}/{YAML}"] + [
        f"{FOLDER}/{e.get('genes')}" for e in (pc.data or {}).get("signatures", []) if isinstance(e, dict)
    ]
    require_listed(used, manifest, report)
    report.raise_if_errors()
    return pc.to_set()


def confounders(ids: str | Sequence[str] | None = None) -> SignatureSet:
    """Return the confounder signatures: proliferation, stromal content and immune content.

    Published gene lists, shipped unchanged except for current HGNC symbols (each renamed gene says so in
    its ``note``): ``confounder.proliferation`` (the S-phase and G2/M cell-cycle genes of Tirosh et al.,
    Science 2016, as distributed with scanpy's cell-cycle tutorial), ``confounder.stromal`` and
    ``confounder.immune`` (the 141-gene stromal and immune signatures of ESTIMATE, Yoshihara et al.,
    Nat Commun 2013, from the ``estimate`` R package 1.0.13). ``signatures/confounders/README.md`` records
    the repository, path and commit each list was taken from. They are not resistance mechanisms and are
    never in the default ``rs.sig.load()`` set; score them beside the mechanisms to see how much of a
    mechanism score tracks proliferation or tumour purity.

    Parameters
    ----------
    ids
        Keep only these confounder id(s).

    Returns
    -------
    SignatureSet
        Collection ``resistscore-confounders``; every signature has ``mechanism == "confounder"``.

    Examples
    --------
    >>> import resistscore as rs
    >>> conf = rs.sig.confounders()
    >>> conf.ids
    ['confounder.proliferation', 'confounder.stromal', 'confounder.immune']
    >>> "MKI67" in conf["confounder.proliferation"], len(conf["confounder.immune"])
    (True, 141)
    """
    sigs = _load_cached(_stat_key(signatures_root()))
    from resistscore.sig._collection import copy_set

    out = copy_set(sigs)
    return out if ids is None else out.select(ids)


def wants_confounders(ids: str | Sequence[str] | None, mechanism: str | Sequence[str] | None) -> bool:
    """Return True when a request names a confounder id or the confounder mechanism."""
    names = [ids] if isinstance(ids, str) else list(ids or [])
    mechs = [mechanism] if isinstance(mechanism, str) else list(mechanism or [])
    return any(str(i).startswith(CONFOUNDER_MECHANISM + ".") for i in names) or CONFOUNDER_MECHANISM in mechs


def with_confounders(sigs: SignatureSet) -> SignatureSet:
    """Return ``sigs`` followed by the shipped confounder signatures (the collection name and version of ``sigs``)."""
    conf = confounders()
    clash = [s.id for s in conf if s.id in sigs]
    if clash:
        raise SignatureError(
            f"signature id(s) {', '.join(clash)} are already in the collection; cannot add the confounder "
            "signatures twice. Rename your own signatures."
        )
    meta = dict(sigs.metadata)
    meta["confounders"] = {"collection": conf.collection, "version": conf.version}
    return SignatureSet([*sigs, *conf], collection=sigs.collection, version=sigs.version, metadata=meta)
