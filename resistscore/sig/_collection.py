"""Read a signature collection in the resistscore format (``signatures.yaml`` + gene TSVs)."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from resistscore._resources import signatures_root
from resistscore.sig._files import Resource, check_yaml_schema, read_tsv, read_yaml, yaml_line
from resistscore.sig._manifest import list_files, require_listed, verify_manifest
from resistscore.sig._model import GENE_COLUMNS, Signature, SignatureSet
from resistscore.sig._problems import ValidationReport

__all__ = ["ParsedCollection", "load_shipped", "parse_collection"]

YAML_NAME = "signatures.yaml"


@dataclass
class ParsedCollection:
    """A collection as read from disk, with the line numbers needed to report problems."""

    root: Resource
    display_root: str
    yaml_display: str
    data: dict[str, Any] | None = None
    node: Any = None
    #: id -> Signature (only the signatures that could be built)
    signatures: dict[str, Signature] = field(default_factory=dict)
    #: id -> (gene file display name, line number of each gene row, in table order)
    gene_lines: dict[str, tuple[str, list[int]]] = field(default_factory=dict)
    #: id -> index of the entry in `signatures:` of the YAML
    entry_index: dict[str, int] = field(default_factory=dict)

    def to_set(self) -> SignatureSet:
        """Return the parsed signatures as a :class:`SignatureSet`."""
        d = self.data or {}
        meta = {k: v for k, v in d.items() if k not in ("signatures", "collection", "version")}
        meta["source"] = self.display_root
        return SignatureSet(
            self.signatures.values(),
            collection=str(d.get("collection", "user")),
            version=str(d.get("version", "0.0.0")),
            metadata=meta,
        )

    def entry_line(self, sig_id: str, key: str | None = None) -> int | None:
        """Line of a signature's entry (or of one of its keys) in the YAML."""
        i = self.entry_index.get(sig_id)
        if i is None:
            return None
        path: list[Any] = ["signatures", i] + ([key] if key else [])
        return yaml_line(self.node, path)


def _join(root: Resource, rel: str) -> Resource:
    node = root
    for part in rel.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        node = node / part
    return node


def parse_collection(
    root: Resource,
    report: ValidationReport,
    *,
    yaml_name: str = YAML_NAME,
    display_root: str | None = None,
    lenient: bool = False,
    trusted: bool = False,
) -> ParsedCollection:
    """Parse ``root/yaml_name`` and every gene TSV it names, recording all problems in ``report``.

    With ``lenient=True`` (users' own collections) provenance fields may be missing or empty.
    ``trusted=True`` skips the JSON Schema checks (of the YAML and of every gene-table row; see
    :func:`read_tsv`): only for files whose bytes are pinned by checksums that the suite validates.
    """
    display_root = display_root if display_root is not None else str(root)
    yaml_display = f"{display_root}/{yaml_name}"
    pc = ParsedCollection(root=root, display_root=display_root, yaml_display=yaml_display)
    data, node = read_yaml(root / yaml_name, yaml_display, report)
    if data is None and node is None:
        return pc
    n_before = len(report.errors)
    if not trusted:
        check_yaml_schema(data, node, "signatures", yaml_display, report, lenient=lenient)
    if not isinstance(data, dict):
        return pc
    pc.data, pc.node = data, node
    entries = data.get("signatures")
    if not isinstance(entries, list):
        return pc
    schema_failed = len(report.errors) > n_before
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        sid = entry["id"]
        line = yaml_line(node, ["signatures", i, "id"])
        if sid in seen:
            report.error(yaml_display, line, f"signatures[{sid}].id",
                         f"signature id {sid!r} is used twice (first at entry {seen[sid] + 1}).",
                         "give every signature a unique id")  # fmt: skip
            continue
        seen[sid] = i
        pc.entry_index[sid] = i
        genes_rel = entry.get("genes")
        if not isinstance(genes_rel, str) or ".." in genes_rel.replace("\\", "/").split("/"):
            continue  # reported by the schema check
        gene_display = f"{display_root}/{genes_rel}"
        n_entry = len(report.errors)
        parsed = read_tsv(
            _join(root, genes_rel),
            gene_display,
            report,
            "gene_table",
            lenient=lenient,
            check_rows=not trusted,
        )
        if parsed is None:
            continue
        header, rows = parsed
        if any(c not in header for c in ("symbol", "direction", "weight")):
            continue
        lines = [ln for ln, _ in rows]
        genes = pd.DataFrame([r for _, r in rows], columns=[c for c in header if c in GENE_COLUMNS])
        first_line: dict[str, int] = {}
        dup_rows = []
        for j, (ln, r) in enumerate(rows):
            sym = r.get("symbol", "")
            if sym in first_line:
                report.error(gene_display, ln, "symbol", f"gene {sym} is listed twice (also on line {first_line[sym]}).",
                             "list each gene once in a signature")  # fmt: skip
                dup_rows.append(j)
            else:
                first_line[sym] = ln
        if dup_rows:
            continue
        try:
            sig = _build(entry, genes, gene_display)
        except (TypeError, ValueError) as exc:
            # values of the wrong type are already reported by the schema checks; anything else is new
            if not schema_failed and len(report.errors) == n_entry:
                report.error(
                    gene_display, None, None, str(exc), "correct the gene table or its entry in the YAML"
                )
            continue
        pc.signatures[sid] = sig
        pc.gene_lines[sid] = (gene_display, lines)
    _check_hierarchy(pc, report, lenient)
    return pc


def _build(entry: dict[str, Any], genes: pd.DataFrame, gene_display: str) -> Signature:
    return Signature(
        id=entry["id"],
        version=str(entry.get("version", "0.0.0")),
        name=entry.get("name") or "",
        parent=entry.get("parent"),
        mechanism=entry.get("mechanism"),
        description=entry.get("description") or "",
        review_section=entry.get("review_section"),
        drugs=tuple(entry.get("drugs") or ()),
        references=tuple(entry.get("references") or ()),
        min_coverage=entry.get("min_coverage", 0.5),
        feature_type=entry.get("feature_type", "gene"),
        genes=genes,
        source=gene_display,
    )


def _check_hierarchy(pc: ParsedCollection, report: ValidationReport, lenient: bool = False) -> None:
    """Parents exist, ids nest, mechanisms are the root ids, children are subsets of their parents.

    A dotted id without a parent (``drug.doxorubicin``) is allowed in users' collections (``lenient``).
    """
    sigs = pc.signatures
    ydisp = pc.yaml_display
    ids = set(pc.entry_index)
    for sid, s in sigs.items():
        if s.parent is not None:
            if s.parent not in ids:
                report.error(ydisp, pc.entry_line(sid, "parent"), f"signatures[{sid}].parent",
                             f"parent {s.parent!r} is not a signature of this collection.",
                             "write the id of an existing signature, or `parent: null` for a top-level mechanism")  # fmt: skip
                continue
            if not sid.startswith(s.parent + "."):
                report.error(ydisp, pc.entry_line(sid, "id"), f"signatures[{sid}].id",
                             f"id {sid!r} does not nest under its parent {s.parent!r}.",
                             f"rename it {s.parent}.<name> (hierarchy by dots)")  # fmt: skip
        elif "." in sid and not lenient:
            report.error(ydisp, pc.entry_line(sid, "parent"), f"signatures[{sid}].parent",
                         f"id {sid!r} has a dot but no parent.",
                         f"set `parent: {sid.rsplit('.', 1)[0]}` or rename the signature without a dot")  # fmt: skip
        # a sub-signature belongs to the mechanism of its parent (a top-level signature names its own)
        seen_chain, cur = {sid}, s
        while cur.parent is not None and cur.parent in sigs:
            if cur.parent in seen_chain:
                report.error(ydisp, pc.entry_line(sid, "parent"), f"signatures[{sid}].parent",
                             "the parents form a cycle.", "make the hierarchy a tree")  # fmt: skip
                break
            seen_chain.add(cur.parent)
            cur = sigs[cur.parent]
        parent = sigs.get(s.parent) if s.parent else None
        if parent is not None and s.mechanism != parent.mechanism:
            report.error(ydisp, pc.entry_line(sid, "mechanism"), f"signatures[{sid}].mechanism",
                         f"mechanism is {s.mechanism!r} but its parent {parent.id!r} belongs to {parent.mechanism!r}.",
                         f"write `mechanism: {parent.mechanism}`")  # fmt: skip
        if parent is not None:
            if parent.feature_type != s.feature_type:
                report.error(ydisp, pc.entry_line(sid, "feature_type"), f"signatures[{sid}].feature_type",
                             f"feature_type {s.feature_type!r} differs from its parent's ({parent.feature_type!r}).",
                             "give a sub-signature the feature type of its parent")  # fmt: skip
            pdir = dict(zip(parent.genes["symbol"], parent.genes["direction"]))
            gdisp, lines = pc.gene_lines[sid]
            pfile = pc.gene_lines[parent.id][0]
            for ln, sym, d in zip(lines, s.genes["symbol"], s.genes["direction"]):
                if sym not in pdir:
                    report.error(gdisp, ln, "symbol", f"gene {sym} is not in the parent signature {parent.id!r}.",
                                 f"add {sym} ({d}) to {pfile}, or remove it here")  # fmt: skip
                elif pdir[sym] != d:
                    report.error(gdisp, ln, "direction",
                                 f"gene {sym} is {d} here but {pdir[sym]} in the parent {parent.id!r}.",
                                 "give a gene the same direction in a signature and its parent")  # fmt: skip


def read_collection(root: Resource, *, yaml_name: str = YAML_NAME, display_root: str | None = None,
                    verify: bool = True) -> SignatureSet:  # fmt: skip
    """Read a user's collection (lenient on provenance) and raise :class:`~resistscore.SignatureError` on problems."""
    display_root = display_root if display_root is not None else str(root)
    report = ValidationReport(display_root)
    if verify:
        verify_manifest(root, report, display_root=display_root)
    pc = parse_collection(root, report, yaml_name=yaml_name, display_root=display_root, lenient=True)
    report.raise_if_errors()
    return pc.to_set()


def _stat_key(root: Resource) -> tuple:
    if not isinstance(root, Path):
        return (str(root),)
    out = []
    for rel in list_files(root) + ["manifest.tsv"]:
        p = root / rel
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((rel, st.st_mtime_ns, st.st_size))
    return (str(root), tuple(out))


@functools.lru_cache(maxsize=4)
def _verify_shipped(key: tuple) -> dict[str, str]:
    root = signatures_root()
    report = ValidationReport("signatures/")
    manifest = verify_manifest(root, report, display_root="signatures", required=True)
    report.raise_if_errors()
    return manifest


def shipped_root() -> Resource:
    """Return the shipped signature folder after checking every file against ``manifest.tsv`` (cached)."""
    root = signatures_root()
    _verify_shipped(_stat_key(root))
    return root


@functools.lru_cache(maxsize=4)
def _load_shipped_cached(key: tuple) -> SignatureSet:
    root = shipped_root()
    manifest = _verify_shipped(key)
    report = ValidationReport("signatures/")
    # every file was just checked against the sha256 of manifest.tsv, and the suite validates exactly
    # those bytes against the schemas (tests/sig/test_shipped.py): the ~0.3 s of schema checks per
    # process are skipped here
    pc = parse_collection(root, report, display_root="signatures", trusted=True)
    used = [YAML_NAME] + [
        str(e.get("genes")) for e in (pc.data or {}).get("signatures", []) if isinstance(e, dict)
    ]
    require_listed(used, manifest, report)
    report.raise_if_errors()
    return pc.to_set()


def copy_set(sigs: SignatureSet) -> SignatureSet:
    """Return a copy whose gene tables can be modified without touching ``sigs``."""
    out = []
    for s in sigs:
        c = copy.copy(s)
        object.__setattr__(c, "genes", s.genes.copy())
        out.append(c)
    return SignatureSet(
        out, collection=sigs.collection, version=sigs.version, metadata=copy.deepcopy(sigs.metadata)
    )


def load_shipped() -> SignatureSet:
    """Return (a copy of) the collection shipped with resistscore, verified against its manifest."""
    return copy_set(_load_shipped_cached(_stat_key(signatures_root())))
