"""E-mails are rows (accounts.models.OutgoingEmail): queued in the caller's transaction, delivered by the
worker once committed, retried with backoff when the mail server fails, failed for good after
MAX_TRIES and kept visible; never the text of an error that may echo addresses."""

import datetime
import smtplib

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.email_delivery import email_deliver
from accounts.models import OutgoingEmail, User
from accounts.selectors import emails_due
from accounts.services import email_queue
from accounts.tasks import send_due_emails

pytestmark = pytest.mark.django_db


def queue_invoice(**fields) -> OutgoingEmail:
    return email_queue(to=["lea@shop.test"], subject="Votre facture", text="Bonjour Léa",
                       html="<p>Bonjour <b>Léa</b></p>",
                       attachments=[("facture.pdf", b"%PDF-1.7 ...", "application/pdf")], **fields)


@pytest.fixture
def refusing_mail_server(monkeypatch):
    """The mail server refuses every message, with an error text that echoes the address."""
    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({"lea@shop.test": (550, b"lea@shop.test: mailbox unavailable")})

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)


def test_a_queued_email_is_sent_once_its_transaction_commits(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_invoice(account=account)
        assert mail.outbox == []  # not before the commit

    [message] = mail.outbox
    assert (message.subject, message.to, message.body) == ("Votre facture", ["lea@shop.test"], "Bonjour Léa")
    assert message.alternatives[0].content == "<p>Bonjour <b>Léa</b></p>"
    assert [(a.filename, a.content, a.mimetype) for a in message.attachments] == [
        ("facture.pdf", b"%PDF-1.7 ...", "application/pdf")]
    assert message.extra_headers["Message-ID"] == f"<outbox-{email.pk}@posbackoffice.local>"
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT and email.sent_at and email.tries == 1


def test_an_email_of_a_rolled_back_change_is_never_sent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        queue_invoice()
        raise RuntimeError("the change fails after queueing its e-mail")

    assert not OutgoingEmail.objects.exists() and mail.outbox == []


def test_a_failed_delivery_is_retried_with_backoff_and_keeps_no_error_text(
        refusing_mail_server, django_capture_on_commit_callbacks, caplog):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_invoice()

    email.refresh_from_db()
    assert (email.status, email.tries, email.last_error) == ("queued", 1, "SMTPRecipientsRefused")
    assert email.lease_until > timezone.now()  # held back until its retry is due
    assert "lea@shop.test" not in caplog.text
    later = timezone.now() + datetime.timedelta(minutes=1)
    assert emails_due(later - datetime.timedelta(seconds=59)) == []  # the sweep leaves it to its retry
    assert emails_due(later) == [email.pk]


def test_after_max_tries_an_email_fails_for_good_visible_to_the_operator(refusing_mail_server, client):
    email = queue_invoice()
    now = timezone.now()
    for attempt in range(OutgoingEmail.MAX_TRIES):
        with time_machine.travel(now + datetime.timedelta(hours=attempt)):
            try:
                email_deliver(email_id=email.pk)
            except Exception:  # the retries' TryLater
                pass

    email.refresh_from_db()
    assert (email.status, email.tries, email.sent_at) == ("failed", OutgoingEmail.MAX_TRIES, None)
    with time_machine.travel(now + datetime.timedelta(days=1)):
        assert emails_due(timezone.now()) == [] and email_deliver(email_id=email.pk) is None
    client.force_login(User.objects.create_superuser("operator@platform.test"))
    page = client.get("/operator/accounts/outgoingemail/?status=failed")
    assert page.status_code == 200 and "Votre facture" in page.content.decode()


def test_the_sweep_delivers_what_waited_and_the_dev_mail_pages_list_it(
        client, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.DEBUG, settings.EMAIL_OUTBOX_DIR = True, tmp_path
    settings.MAILERS = {"default": {"BACKEND": "posbackoffice.outbox.OutboxBackend",
                                    "OPTIONS": {"folder": str(tmp_path)}}}
    email = OutgoingEmail.objects.create(subject="Lien de paiement", text="Bonjour", recipients=["lea@shop.test"],
                                         created_at=timezone.now() - datetime.timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_emails() == 1

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    listing = client.get("/dev/mail/")
    assert [(m.subject, m.to) for m in listing.context["messages_sent"]] == [("Lien de paiement", "lea@shop.test")]
