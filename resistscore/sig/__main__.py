"""Maintenance commands for the signature data.

``python -m resistscore.sig manifest [FOLDER]``  regenerate manifest.tsv (run after any data edit)
``python -m resistscore.sig validate [FOLDER]``  check the data; exit code 1 if there is an error
"""

from __future__ import annotations

import argparse
import sys

from resistscore._errors import ResistScoreError
from resistscore.sig._checks import validate
from resistscore.sig._manifest import build_manifest


def main(argv: list[str] | None = None) -> int:
    """Run the maintenance command; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m resistscore.sig", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_man = sub.add_parser("manifest", help="regenerate manifest.tsv (sha256 of every file)")
    p_man.add_argument(
        "folder", nargs="?", default=None, help="signature folder (default: the checkout's signatures/)"
    )
    p_val = sub.add_parser("validate", help="check the signature files and list every problem")
    p_val.add_argument(
        "folder", nargs="?", default=None, help="signature folder (default: the shipped signatures)"
    )
    p_val.add_argument("--no-hgnc", action="store_true", help="skip the HGNC symbol checks")
    args = parser.parse_args(argv)
    try:
        if args.command == "manifest":
            path = build_manifest(args.folder)
            print(f"wrote {path}")
            return 0
        report = validate(args.folder, gene_table=False if args.no_hgnc else None)
    except ResistScoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(repr(report) if report.problems else f"{report.source}: no problems ({len(report.checks)} checks).")
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
