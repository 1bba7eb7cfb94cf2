"""Low-level readers of the signature files: YAML with line numbers, TSV with line numbers, schema checks.

Every reader records problems (file, line, field, problem, fix) in a :class:`ValidationReport`
instead of raising, so that the validator can list them all; the loaders raise afterwards.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import json
from collections.abc import Iterable, Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from resistscore._resources import signatures_root
from resistscore.sig._problems import ValidationReport

if TYPE_CHECKING:  # imported where a file is checked: scoring with signatures in memory never needs it
    import jsonschema

__all__ = ["Resource", "read_tsv", "read_yaml", "schema", "yaml_line"]

Resource = Traversable | Path

try:  # the C loader is much faster; fall back to the pure-Python one
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """Return the JSON Schema ``signatures/schema/<name>.schema.json`` shipped with resistscore."""
    res = signatures_root() / "schema" / f"{name}.schema.json"
    return json.loads(res.read_text(encoding="utf-8"))


@functools.cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    import jsonschema  # function-local: ~0.05 s of CPU, needed only to check a signature file

    s = schema(name)
    cls = jsonschema.validators.validator_for(s)
    cls.check_schema(s)
    return cls(s)


def _fix_for(error: jsonschema.ValidationError) -> str:
    """Return the ``x-fix`` hint of the failing (sub)schema, searching the best-matching context too."""
    if error.validator == "required" and "'" in error.message:
        missing = error.message.split("'")[1]
        return f"add `{missing}` (the schemas in signatures/schema/ list every field; see its README.md)"
    for err in (error, *(error.context or [])):
        hint = err.schema.get("x-fix") if isinstance(err.schema, dict) else None
        if hint:
            return hint
    return "correct the value as the schema in signatures/schema/ describes"


def _short(value: Any, n: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def _message(error: jsonschema.ValidationError) -> str:
    validator = error.validator
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"`{missing}` is missing."
    if validator == "additionalProperties":
        return error.message
    if error.instance in ("", None, []) and validator in (
        "pattern",
        "minLength",
        "minItems",
        "type",
        "oneOf",
    ):
        return "is empty."
    if validator in ("pattern", "enum", "const", "type", "minLength", "minItems", "uniqueItems", "oneOf"):
        return f"invalid value {_short(error.instance)}."
    return error.message[:200] + ("" if error.message.endswith(".") else ".")


def read_yaml(res: Resource, display: str, report: ValidationReport) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file; return ``(data, node)`` where ``node`` gives line numbers (None on failure)."""
    try:
        text = res.read_text(encoding="utf-8")
    except FileNotFoundError:
        report.error(
            display, None, None, "file not found.", "create it, or point to the right folder or file"
        )
        return None, None
    except UnicodeDecodeError as exc:
        report.error(display, None, None, f"not UTF-8 text ({exc.reason}).", "save the file as UTF-8 text")
        return None, None
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        report.error(
            display,
            line,
            None,
            f"malformed YAML: {problem}.",
            "check the indentation and quoting on or just above this line (quote values containing ': ' or '#')",
        )
        return None, None
    return data, node


def yaml_line(node: yaml.Node | None, path: Sequence[Any]) -> int | None:
    """Return the 1-based line of the YAML element at ``path`` (keys and list indices), if known."""
    best = node.start_mark.line + 1 if node is not None else None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if getattr(k, "value", None) == str(key):
                    node = v
                    best = k.start_mark.line + 1
                    break
            else:
                return best
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            best = node.start_mark.line + 1
        else:
            return best
    return best


#: Fields that may be left out or empty in users' own signature files (``lenient=True``): only the
#: shipped collection must carry full provenance.
LENIENT_FIELDS = frozenset(
    {
        "collection", "version", "name", "parent", "mechanism", "description", "review_section", "drugs",
        "references", "min_coverage", "review", "hgnc_id", "ensembl_gene_id", "evidence_source", "evidence",
        "confidence", "note",
    }
)  # fmt: skip


def _excused(err: jsonschema.ValidationError, lenient: bool) -> bool:
    """In lenient mode, a missing or empty provenance field is not an error."""
    if not lenient:
        return False
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        return missing in LENIENT_FIELDS
    key = next((k for k in reversed(err.absolute_path) if isinstance(k, str)), None)
    return key in LENIENT_FIELDS and err.instance in ("", None, [])


def check_yaml_schema(
    data: Any,
    node: yaml.Node | None,
    name: str,
    display: str,
    report: ValidationReport,
    *,
    lenient: bool = False,
) -> None:
    """Validate parsed YAML against a shipped schema, recording each error with its line."""
    if not isinstance(data, dict):
        report.error(
            display,
            1,
            None,
            f"the file must hold a mapping (keys such as `schema_version`, `signatures`), got {type(data).__name__}.",
            "start from the example in signatures/schema/README.md (schema_version, collection, version, signatures)",
        )
        return
    for err in sorted(_validator(name).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        if _excused(err, lenient):
            continue
        path = list(err.absolute_path)
        field = _field_name(path, data)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else None
            field = f"{field}.{missing}" if field and missing else (missing or field)
        report.error(display, yaml_line(node, path), field, _message(err), _fix_for(err))


def _field_name(path: list[Any], data: Any) -> str | None:
    parts: list[str] = []
    cur = data
    for key in path:
        if isinstance(key, int):
            ident = cur[key].get("id") if isinstance(cur, list) and isinstance(cur[key], dict) else None
            parts[-1] = f"{parts[-1]}[{ident if isinstance(ident, str) else key}]" if parts else f"[{key}]"
        else:
            parts.append(str(key))
        try:
            cur = cur[key]
        except (KeyError, IndexError, TypeError):
            cur = None
    return ".".join(parts) or None


def read_tsv(
    res: Resource,
    display: str,
    report: ValidationReport,
    schema_name: str | None = None,
    *,
    lenient: bool = False,
    check_rows: bool = True,
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]] | None:
    """Read a tab-separated file; return ``(header, [(line_number, row_dict), ...])``.

    Blank lines and lines starting with ``#`` are skipped. Cells are stripped of surrounding
    whitespace and are never unquoted. With ``schema_name`` the header and every row are checked
    against ``signatures/schema/<schema_name>.schema.json``; numeric columns are converted to float.
    ``check_rows=False`` skips the per-row JSON Schema check (the header is still checked) - only for
    files whose bytes are pinned by a checksum that the test suite validated (the shipped collection).
    Returns None when the file cannot be read at all.
    """
    try:
        text = res.read_text(encoding="utf-8")
    except FileNotFoundError:
        report.error(
            display, None, None, "file not found.", "create the file or correct the path that points to it"
        )
        return None
    except UnicodeDecodeError as exc:
        report.error(display, None, None, f"not UTF-8 text ({exc.reason}).", "save the file as UTF-8 text")
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in raw.split("\t")]
        if header is None:
            header = cells
            dup = sorted({c for c in header if header.count(c) > 1})
            if dup:
                report.error(
                    display, lineno, ", ".join(dup), "duplicated column name(s).", "name each column once"
                )
            if len(header) == 1 and ("," in raw or ";" in raw):
                report.error(
                    display, lineno, None, "the header has no tab: the file is not tab-separated.",
                    "separate columns with a TAB character (not commas, semicolons or spaces)",
                )  # fmt: skip
                return None
            continue
        if len(cells) != len(header):
            if len(cells) < len(header) and all(c == "" for c in cells[len(header) :]):
                cells = cells + [""] * (len(header) - len(cells))
            elif len(cells) > len(header) and all(c == "" for c in cells[len(header) :]):
                cells = cells[: len(header)]
            else:
                report.error(
                    display, lineno, None,
                    f"{len(cells)} tab-separated cells but the header has {len(header)}.",
                    "give every line one cell per header column, separated by single TABs (no TAB inside a cell)",
                )  # fmt: skip
                continue
        rows.append((lineno, dict(zip(header, cells))))
    if header is None:
        report.error(
            display, None, None, "the file is empty (no header line).", "add the header line and the rows"
        )
        return None
    if schema_name is not None:
        _check_rows(header, rows, schema_name, display, report, lenient, check_rows)
    return header, rows


def _check_rows(
    header: list[str],
    rows: list[tuple[int, dict[str, Any]]],
    schema_name: str,
    display: str,
    report: ValidationReport,
    lenient: bool = False,
    check_rows: bool = True,
) -> None:
    s = schema(schema_name)
    props: dict[str, Any] = s.get("properties", {})
    required = list(s.get("required", []))
    closed = s.get("additionalProperties", True) is False
    header_line = "\t".join(required) if required else None
    for col in required:
        if col not in header and not (lenient and col in LENIENT_FIELDS):
            close = difflib.get_close_matches(col, header, n=1)
            hint = f" (is `{close[0]}` a misspelling?)" if close else ""
            report.error(
                display, None, col, f"missing column `{col}`{hint}.",
                f"add the column; the header must be: {header_line!r}",
            )  # fmt: skip
    if closed:
        for col in header:
            if col not in props:
                close = difflib.get_close_matches(col, list(props), n=1)
                hint = f"rename it to `{close[0]}`" if close else "remove it"
                report.error(
                    display, None, col, f"unknown column `{col}`.",
                    f"{hint}; the allowed columns are: {', '.join(props)}",
                )  # fmt: skip
    numeric = [c for c, p in props.items() if _is_number(p)]
    # the shipped collection (check_rows=False) never imports jsonschema (~0.08 s of CPU a process)
    validator = _validator(schema_name) if check_rows else None
    for lineno, row in rows:
        for c in numeric:
            if c in row and row[c] != "":
                with contextlib.suppress(ValueError):  # left as text: the schema reports "not a number"
                    row[c] = float(row[c])
        if not check_rows:
            continue
        for err in validator.iter_errors({k: v for k, v in row.items() if k in props or not closed}):
            if err.validator in ("required", "additionalProperties") or _excused(err, lenient):
                continue  # missing columns are reported once for the header above
            field = str(err.absolute_path[0]) if err.absolute_path else None
            report.error(display, lineno, field, _message(err), _fix_for(err))


def _is_number(prop: dict[str, Any]) -> bool:
    t = prop.get("type")
    return t == "number" or (isinstance(t, list) and "number" in t)


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``" Did you mean: a, b?"`` for the closest choices, or an empty string."""
    found = difflib.get_close_matches(word, list(choices), n=n, cutoff=0.6)
    return f" Did you mean: {', '.join(found)}?" if found else ""
