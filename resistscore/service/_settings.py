"""Settings of the upload service: limits, authentication, storage, compute.

Every setting has a safe default and can be set, from lowest to highest precedence, in a TOML config
file (``--config``), in an environment variable ``RESISTSCORE_SERVE_<NAME>`` (upper case) or as a command
line option of ``resistscore serve``. ``docs/service.md`` lists them all.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resistscore._errors import ResistScoreError

__all__ = ["ENV_PREFIX", "ServiceSettings"]

ENV_PREFIX = "RESISTSCORE_SERVE_"
MiB = 1024 * 1024


@dataclass
class ServiceSettings:
    """Everything ``resistscore serve`` can be told.

    Attributes
    ----------
    host, port
        Where the web server listens (default loopback only: 127.0.0.1:8000).
    data_dir
        Folder of the job store (``jobs.sqlite3``) and of every job's files (``jobs/<id>/``).
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); ``None`` starts a local cluster.
    workers
        Worker processes of the local cluster (one job at a time each).
    worker_memory
        Memory limit of each local worker (Dask syntax, ``"4GiB"``; ``"auto"`` splits the machine's memory).
    max_upload_mb
        Largest expression or metadata file, in MiB, counted while it streams to disk (413 above it).
    max_decompressed_mb
        Largest decompressed size of a gzip file or of the members of a zip container (xlsx) (413 above it).
    max_matrix_entries, max_dimension
        Largest matrix (genes x samples) and largest number of genes or samples (422 above it).
    max_queue
        Jobs waiting or running in all (429 with ``Retry-After`` above it).
    max_jobs_per_client
        Jobs waiting or running per client (the authenticated user, else the address) (429 above it).
    job_timeout_s
        A job running longer fails with a message saying so; its worker is restarted.
    retention_hours
        Finished jobs and their files are deleted this long after they finished.
    max_attempts
        A job whose worker died is started again until it has been tried this often; then it fails.
    max_body_kb
        Largest body of a request other than an upload (forms, JSON).
    max_header_kb
        Largest request head (request line and headers).
    auth
        ``"none"`` (default; for a laptop), ``"token"`` or ``"basic"``.
    tokens
        Accepted bearer tokens (``auth = "token"``); also accepted as the password of HTTP basic auth.
    users
        ``{user: password hash}`` for ``auth = "basic"`` (hashes from ``resistscore serve --hash-password``).
    root_path
        Path prefix when served behind a reverse proxy under a sub-path (e.g. ``/resistscore``).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = field(default_factory=lambda: Path("resistscore-data"))
    scheduler: str | None = None
    workers: int = 1
    worker_memory: str = "auto"
    max_upload_mb: float = 1024.0
    max_decompressed_mb: float = 4096.0
    max_matrix_entries: int = 500_000_000
    max_dimension: int = 2_000_000
    max_queue: int = 100
    max_jobs_per_client: int = 10
    job_timeout_s: float = 3600.0
    retention_hours: float = 72.0
    max_attempts: int = 2
    max_body_kb: int = 64
    max_header_kb: int = 16
    auth: str = "none"
    tokens: list[str] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    root_path: str = ""

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.check()

    # ------------------------------------------------------------------------------------------
    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MiB)

    @property
    def max_decompressed_bytes(self) -> int:
        return int(self.max_decompressed_mb * MiB)

    def check(self) -> None:
        """Refuse settings that cannot work, naming the setting and the fix."""
        positive = (
            "port",
            "workers",
            "max_upload_mb",
            "max_decompressed_mb",
            "max_matrix_entries",
            "max_dimension",
            "max_queue",
            "max_jobs_per_client",
            "job_timeout_s",
            "retention_hours",
            "max_attempts",
            "max_body_kb",
            "max_header_kb",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ResistScoreError(f"service setting {name} = {value!r} must be a positive number.")
        if self.auth not in ("none", "token", "basic"):
            raise ResistScoreError(f"service setting auth = {self.auth!r}: use none, token or basic.")
        if self.auth == "token" and not [t for t in self.tokens if t]:
            raise ResistScoreError(
                "auth = token needs at least one token: set RESISTSCORE_SERVE_TOKENS (comma-separated) "
                "or `tokens = [...]` in the config file."
            )
        if self.auth == "token" and any(len(t) < 16 for t in self.tokens):
            raise ResistScoreError(
                "every token must have at least 16 characters; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
            )
        if self.auth == "basic" and not self.users:
            raise ResistScoreError(
                'auth = basic needs users: `[users]` in the config file, one `name = "hash"` each '
                "(hashes from `resistscore serve --hash-password`)."
            )
        if self.root_path and not self.root_path.startswith("/"):
            raise ResistScoreError(f"root_path {self.root_path!r} must start with '/'.")

    # ------------------------------------------------------------------------------------------
    @classmethod
    def load(
        cls, config: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None, **options: Any
    ) -> ServiceSettings:
        """Read the settings from a TOML file, then the environment, then ``options`` (``None`` values ignored).

        Parameters
        ----------
        config
            TOML file with top-level keys named like the attributes (``max_upload_mb = 500``) and an
            optional ``[users]`` table.
        env
            Environment to read ``RESISTSCORE_SERVE_*`` from (default ``os.environ``).
        **options
            Highest precedence (the command line options).
        """
        names = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        if config is not None:
            values.update(_read_config(Path(config), names))
        env = os.environ if env is None else env
        for name in names:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = _parse_env(name, raw, names[name])
        values.update({k: v for k, v in options.items() if v is not None})
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ResistScoreError(f"unknown service setting(s) {unknown}; valid: {sorted(names)}.")
        return cls(**values)


def _read_config(path: Path, names: dict[str, dataclasses.Field]) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError as err:
        raise ResistScoreError(f"config file {path} does not exist; check the path.") from err
    except tomllib.TOMLDecodeError as err:
        raise ResistScoreError(f"config file {path} is not valid TOML: {err}.") from err
    unknown = sorted(set(doc) - set(names))
    if unknown:
        raise ResistScoreError(f"config file {path}: unknown setting(s) {unknown}; valid: {sorted(names)}.")
    return doc


def _parse_env(name: str, raw: str, fld: dataclasses.Field) -> Any:
    kind = fld.type if isinstance(fld.type, str) else getattr(fld.type, "__name__", "")
    try:
        if name == "tokens":
            return [t.strip() for t in raw.split(",") if t.strip()]
        if name == "users":
            pairs = [p.split("=", 1) for p in raw.split(",") if p.strip()]
            return {u.strip(): h.strip() for u, h in pairs}
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError as err:
        raise ResistScoreError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {kind}.") from err
    return raw
