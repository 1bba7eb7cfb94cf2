"""Security of the service: headers and CSP, body limits, authentication, CSRF, password hashes.

* Every response carries a strict Content-Security-Policy (scripts and styles from the service's own
  static files only; no inline script), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and
  frame restrictions. A job's ``report.html`` (which inlines its styles, images and one script) is served
  sandboxed (an opaque origin: no cookies, no access to the service) with a policy that allows only that
  script, by its hash (``rs.report.content_security_policy``), and its CSV downloads.
* Request bodies other than uploads are limited (``max_body_kb``); uploads are limited while they stream
  (``_uploads.py``); the request head is limited by the HTTP parser (``max_header_kb``, ``_server.py``).
* Optional authentication: bearer tokens (also accepted as the password of HTTP basic auth, so a browser
  can log in) or HTTP basic auth with PBKDF2 password hashes.
* CSRF: a state-changing request from a browser must come from the service's own origin (``Origin`` /
  ``Sec-Fetch-Site``) and carry the token of the ``rs_csrf`` cookie (double submit); scripts that send
  no browser headers (curl, httpx) need no token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resistscore.report import content_security_policy
from resistscore.service._settings import ServiceSettings

__all__ = ["CSRF_COOKIE", "SecurityMiddleware", "check_csrf", "hash_password", "verify_password"]

CSRF_COOKIE = "rs_csrf"
CSP_PAGES = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
CSP_REPORT = f"{content_security_policy()}; sandbox allow-scripts allow-downloads; frame-ancestors 'self'"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_PBKDF2_ITERATIONS = 600_000


# ------------------------------------------------------------------------------------ passwords
def hash_password(password: str, *, iterations: int = _PBKDF2_ITERATIONS) -> str:
    """Return a PBKDF2-SHA256 hash of ``password`` for the ``users`` setting (``pbkdf2_sha256$n$salt$hash``)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"pbkdf2_sha256${iterations}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Return True if ``password`` matches a hash made by :func:`hash_password` (constant-time comparison)."""
    try:
        scheme, n, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(n))
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


# ------------------------------------------------------------------------------------ auth
def authenticate(headers: Headers, settings: ServiceSettings) -> str | None:
    """Return the user name for a request (``"token"`` for a bearer token), or None when not allowed."""
    if settings.auth == "none":
        return ""
    header = headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if settings.auth == "token":
        supplied = value.strip() if scheme == "bearer" else _basic(value)[1] if scheme == "basic" else None
        if supplied and any(hmac.compare_digest(supplied.encode(), t.encode()) for t in settings.tokens):
            return "token"
        return None
    if scheme == "basic":
        user, password = _basic(value)
        stored = settings.users.get(user or "")
        if stored is not None and password is not None and verify_password(password, stored):
            return user
    return None


def _basic(value: str) -> tuple[str | None, str | None]:
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return user, password


# ------------------------------------------------------------------------------------ CSRF
def is_browser(request: Request) -> bool:
    """Return True for a request sent by a browser (it names its origin or fetch context, or holds our cookie)."""
    h = request.headers
    return "origin" in h or "sec-fetch-site" in h or CSRF_COOKIE in request.cookies


def cross_site(request: Request) -> bool:
    """Return True for a request a browser sent from another site or origin."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:  # set by the browser itself, cannot be forged by a page
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() != host.lower()


def check_csrf(request: Request, token: str | None) -> str | None:
    """Why a state-changing request must be refused (a message), or None when it may go ahead."""
    if cross_site(request):
        return "this request came from another site; submit the form on the service's own page."
    if not is_browser(request):
        return None
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not token or not hmac.compare_digest(cookie.encode(), token.encode()):
        return "the form has expired or lacks its security token; reload the page and submit again."
    return None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


# ------------------------------------------------------------------------------------ middleware
class SecurityMiddleware:
    """ASGI middleware: authentication, security headers, and the body limit of non-upload requests.

    Parameters
    ----------
    app
        The application.
    settings
        The service settings.
    upload_paths
        Paths whose bodies are uploads (limited while they stream, not here).
    """

    def __init__(self, app: ASGIApp, settings: ServiceSettings, upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.settings = settings
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = scope.get("path", "")
        is_report = path.endswith("/report.html")

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h["Content-Security-Policy"] = CSP_REPORT if is_report else CSP_PAGES
                h["X-Content-Type-Options"] = "nosniff"
                h["Referrer-Policy"] = "same-origin"
                h["Cross-Origin-Opener-Policy"] = "same-origin"
                h["Cross-Origin-Resource-Policy"] = "same-origin"
                h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if not is_report:
                    h["X-Frame-Options"] = "DENY"
                h.setdefault("Cache-Control", "no-store")
            await send(message)

        head = sum(len(k) + len(v) + 4 for k, v in scope.get("headers", [])) + len(
            scope.get("raw_path") or b""
        )
        head += len(scope.get("query_string", b""))
        if head > self.settings.max_header_kb * 1024:
            await _plain(
                send_secure, 431, f"the request head is larger than {self.settings.max_header_kb} KiB."
            )
            return
        if path != "/healthz":
            user = authenticate(headers, self.settings)
            if user is None:
                await _plain(
                    send_secure,
                    401,
                    "authentication required.",
                    {"WWW-Authenticate": 'Basic realm="resistscore"'},
                )
                return
            scope.setdefault("state", {})["user"] = user
        if scope["method"] in _UNSAFE and path not in self.upload_paths:
            limit = self.settings.max_body_kb * 1024
            declared = headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                await _plain(
                    send_secure, 413, f"the request body is larger than {self.settings.max_body_kb} KiB."
                )
                return
            receive = _limited(receive, limit)
        try:
            await self.app(scope, receive, send_secure)
        except _BodyTooLarge:
            await _plain(
                send_secure, 413, f"the request body is larger than {self.settings.max_body_kb} KiB."
            )


class _BodyTooLarge(Exception):
    pass


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def inner() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge
        return message

    return inner


async def _plain(send: Send, status: int, text: str, extra: dict[str, str] | None = None) -> None:
    import json

    body = json.dumps({"detail": text}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
