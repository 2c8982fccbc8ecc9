"""A development e-mail backend that keeps every sent message as an .eml file.

The web process lists them at /dev/mail/ (DEBUG only), so a demo user can open e-mails that the
Celery worker sent, such as password resets and pay links.
"""

import email
import email.policy
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class OutboxBackend(BaseEmailBackend):
    def __init__(self, *, folder: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.folder = Path(folder) if folder else outbox_dir()

    def send_messages(self, email_messages):
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
            name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            tmp = folder / f".{name}.tmp"
            tmp.write_bytes(message.message().as_bytes())
            tmp.rename(folder / name)  # atomic: the list page never sees a half-written file
            sent += 1
        return sent


def outbox_dir() -> Path:
    return Path(settings.EMAIL_OUTBOX_DIR)


@dataclass(frozen=True)
class OutboxMessage:
    key: str
    subject: str
    to: str
    sent_at: datetime | None
    text: str
    html: str | None
    attachments: list[str]


def _read(path: Path) -> OutboxMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    attachments = [part.get_filename() or "attachment" for part in parsed.iter_attachments()]
    date_header = parsed.get("Date")
    return OutboxMessage(
        key=path.stem,
        subject=str(parsed.get("Subject", "")),
        to=str(parsed.get("To", "")),
        sent_at=parsedate_to_datetime(date_header) if date_header else None,
        text=text_part.get_content() if text_part else "",
        html=html_part.get_content() if html_part else None,
        attachments=attachments,
    )


def list_messages(limit: int = 200) -> list[OutboxMessage]:
    folder = outbox_dir()
    if not folder.exists():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_read(path) for path in paths]


def get_message(key: str) -> OutboxMessage | None:
    # Keys are file stems we generated; refuse anything that could walk out of the folder.
    if not key or "/" in key or "\\" in key or key.startswith("."):
        return None
    path = outbox_dir() / f"{key}.eml"
    return _read(path) if path.is_file() else None
