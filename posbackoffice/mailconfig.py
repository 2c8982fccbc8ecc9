"""EMAIL_URL parsing: one variable describes where e-mail goes.

    smtp://user:password@host:587          STARTTLS
    smtps://user:password@host:465         implicit TLS
    outbox:///absolute/path  or outbox://  .eml files under var/mail, listed at /dev/mail/ in DEBUG
    console://                             printed by the process that sends
    memory://                              Django's in-memory backend (tests)
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def mailers_from_url(url: str, *, default_outbox: Path) -> tuple[dict, Path | None]:
    """Django's MAILERS setting for EMAIL_URL, and the outbox folder when there is one."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme in ("smtp", "smtps"):
        if not parts.hostname:
            raise ImproperlyConfigured(f"EMAIL_URL needs a host: {url!r}.")
        port = parts.port or (465 if scheme == "smtps" else 587)
        options = {
            "host": parts.hostname,
            "port": port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": scheme == "smtp" and port != 25,
            "use_ssl": scheme == "smtps",
            "timeout": 15,
        }
        return {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}}, None
    if scheme == "outbox":
        folder = Path(parts.path) if parts.path not in ("", "/") else default_outbox
        backend = {"BACKEND": "posbackoffice.outbox.OutboxBackend", "OPTIONS": {"folder": str(folder)}}
        return {"default": backend}, folder
    if scheme == "console":
        return {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}, None
    if scheme == "memory":
        return {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}, None
    raise ImproperlyConfigured(
        f"EMAIL_URL has an unknown scheme {scheme!r}; use smtp, smtps, outbox, console or memory."
    )
