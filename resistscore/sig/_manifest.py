"""The manifest of the signature files: one sha256 per file, verified when the signatures are loaded."""

from __future__ import annotations

import os
from pathlib import Path

from resistscore._atomic import atomic_write
from resistscore._errors import SignatureError
from resistscore._resources import sha256, signatures_root
from resistscore.sig._files import Resource
from resistscore.sig._problems import ValidationReport

__all__ = ["MANIFEST", "build_manifest", "list_files", "read_manifest", "require_listed", "verify_manifest"]

MANIFEST = "manifest.tsv"
_HEADER = ("file", "sha256")
_SKIP_SUFFIXES = (".pyc", ".swp", ".swo", "~", ".part", ".orig", ".rej")


def _skipped(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__" or name.endswith(_SKIP_SUFFIXES)


def list_files(root: Resource) -> list[str]:
    """Return the relative (``/``-separated) paths of the data files under ``root``, sorted.

    Hidden files and folders, ``__pycache__``, editor backups and the manifest itself are left out.
    """
    out: list[str] = []

    def walk(node: Resource, prefix: str) -> None:
        for child in node.iterdir():
            if _skipped(child.name):
                continue
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, rel + "/")
            elif rel != MANIFEST:
                out.append(rel)

    walk(root, "")
    return sorted(out)


def _resolve(root: Resource, rel: str) -> Resource:
    node = root
    for part in rel.split("/"):
        node = node / part
    return node


def read_manifest(
    root: Resource, report: ValidationReport | None = None, display: str = MANIFEST
) -> dict[str, str]:
    """Return ``{relative path: sha256}`` from ``root/manifest.tsv`` (empty if absent)."""
    res = root / MANIFEST
    if not res.is_file():
        return {}
    out: dict[str, str] = {}
    for lineno, line in enumerate(res.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if tuple(cells) == _HEADER:
            continue
        if len(cells) != 2 or len(cells[1]) != 64:
            if report is not None:
                report.error(display, lineno, None, "malformed manifest line (expected `file<TAB>sha256`).",
                             "regenerate the manifest with rs.sig.build_manifest()")  # fmt: skip
            continue
        out[cells[0]] = cells[1]
    return out


def verify_manifest(
    root: Resource,
    report: ValidationReport,
    *,
    display_root: str,
    required: bool = False,
    complete: bool = False,
) -> dict[str, str]:
    """Check every file listed in the manifest against its sha256; record mismatches in ``report``.

    Parameters
    ----------
    root
        Folder holding ``manifest.tsv``.
    report
        Where problems are recorded.
    display_root
        How to name the folder in messages.
    required
        Record an error if there is no manifest.
    complete
        Also record an error for each data file that the manifest does not list.
    """
    display = f"{display_root}/{MANIFEST}"
    manifest = read_manifest(root, report, display)
    fix = (
        "if the change is intended, rerun rs.sig.build_manifest() (python -m resistscore.sig manifest) and record it "
        "in signatures/CHANGELOG.md; otherwise reinstall resistscore or restore the file"
    )
    if not manifest:
        if required:
            report.error(display, None, None, "the manifest is missing or empty.",
                         "generate it with rs.sig.build_manifest() (python -m resistscore.sig manifest)")  # fmt: skip
        return manifest
    changed: list[tuple[str, str, str]] = []
    for rel, digest in manifest.items():
        res = _resolve(root, rel)
        if not res.is_file():
            report.error(f"{display_root}/{rel}", None, None, "listed in the manifest but missing.", fix)
            continue
        got = sha256(res)
        if got != digest:
            changed.append((rel, got, digest))
    if len(changed) > 3:  # one problem, not a wall of identical lines
        names = ", ".join(rel for rel, _, _ in changed)
        report.error(display, None, None,
                     f"{len(changed)} files were changed after the manifest was built: {names}.", fix)  # fmt: skip
    else:
        for rel, got, digest in changed:
            report.error(
                f"{display_root}/{rel}", None, None,
                f"the file was changed after the manifest was built (sha256 {got[:12]}..., manifest {digest[:12]}...).",
                fix,
            )  # fmt: skip
    if complete:
        for rel in list_files(root):
            if rel not in manifest:
                report.error(f"{display_root}/{rel}", None, None, "not listed in the manifest.", fix)
    return manifest


def build_manifest(root: str | os.PathLike[str] | None = None) -> Path:
    r"""Regenerate ``manifest.tsv`` (one sha256 per file) for a signature folder.

    Run it after *any* edit of the signature data (see ``signatures/VERSIONING.md``); the loader
    refuses files whose checksum no longer matches. From a shell::

        python -m resistscore.sig manifest

    Parameters
    ----------
    root
        The signature folder; default: the ``signatures/`` folder of the source checkout.

    Returns
    -------
    pathlib.Path
        Path of the written manifest.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import resistscore as rs
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "signatures.yaml").write_text("schema_version: 1\n")
    >>> print(rs.sig.build_manifest(d).read_text().splitlines()[1][:40])
    signatures.yaml	5c9536c0f64193f535c425ba
    """
    if root is None:
        shipped = signatures_root()
        if not isinstance(shipped, Path):
            raise SignatureError(
                "the shipped signatures are inside a package archive and cannot be rewritten. "
                "Pass the folder to build the manifest for: rs.sig.build_manifest('path/to/signatures')."
            )
        root = shipped
    root = Path(root)
    if not root.is_dir():
        raise SignatureError(f"{root} is not a folder. Pass the signature folder that holds signatures.yaml.")
    files = list_files(root)
    with atomic_write(root / MANIFEST) as fh:
        fh.write("\t".join(_HEADER) + "\n")
        for rel in files:
            fh.write(f"{rel}\t{sha256(_resolve(root, rel))}\n")
    return root / MANIFEST


def require_listed(used: list[str], manifest: dict[str, str], report: ValidationReport) -> None:
    """Report every shipped file in ``used`` (paths relative to ``signatures/``) that the manifest does not list."""
    for rel in used:
        if rel not in manifest:
            report.error(f"signatures/{rel}", None, None, "the file is not listed in the manifest.",
                         "rerun rs.sig.build_manifest() (python -m resistscore.sig manifest) after editing the data")  # fmt: skip
