"""The e-mail of a pay link: receipt number, amount due, items, sale date, a Pay button (HTML and text), and
the PDF invoice, in the language it was sent in; one delivery through a real local SMTP server (aiosmtpd)
whose attachment is read back."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from accounts.email_delivery import email_deliver
from accounts.models import OutgoingEmail
from paylinks.links import link_url
from paylinks.mailing import invoice_pdf, pay_link_email_run
from paylinks.models import PayLinkEmail
from paylinks.services import pay_link_send
from tests.paylinks.builders import on_account_sale, online_shop, sent_link
from tests.readers import pdf_pages_text

pytestmark = pytest.mark.django_db


def _rendered(account, language, django_capture_on_commit_callbacks):
    shop = online_shop(account)
    sale = on_account_sale(shop, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        link = sent_link(shop, sale, language=language)
    return sale, link, OutgoingEmail.objects.get(pk=PayLinkEmail.objects.get(link=link).email_id)


def test_the_email_in_french(account, django_capture_on_commit_callbacks):
    sale, link, outgoing = _rendered(account, "fr", django_capture_on_commit_callbacks)
    assert outgoing.recipients == ["camille@example.test"]
    assert outgoing.subject == f"Votre reçu {sale.receipt} de {account.name} : payer en ligne"
    for part in (outgoing.text, outgoing.html):
        assert sale.receipt in part and "49,00" in part and "Bougie parfumée" in part and link_url(link) in part
        assert "Montant à payer" in part
    assert ">Payer</a>" in outgoing.html
    attachment = outgoing.attachments.get()
    assert attachment.filename == f"facture-{sale.receipt}.pdf" and attachment.mimetype == "application/pdf"
    text = " ".join(pdf_pages_text(bytes(attachment.content)))
    assert sale.receipt in text and "Montant à payer" in text and account.name in text and "49,00" in text


def test_the_email_in_english(account, django_capture_on_commit_callbacks):
    sale, link, outgoing = _rendered(account, "en", django_capture_on_commit_callbacks)
    assert outgoing.subject == f"Your receipt {sale.receipt} from {account.name}: pay online"
    assert "Amount due" in outgoing.text and ">Pay</a>" in outgoing.html
    assert "Amount due" in " ".join(pdf_pages_text(invoice_pdf(link)))


@pytest.mark.parametrize(("shop_language", "customer_language", "subject", "amount_due"), [
    ("en", "fr", "Votre reçu {receipt} de {shop} : payer en ligne", "Montant à payer"),
    ("fr", "en", "Your receipt {receipt} from {shop}: pay online", "Amount due"),
])
def test_each_customer_gets_the_email_and_pdf_in_their_own_language(
        account, django_capture_on_commit_callbacks, shop_language, customer_language, subject, amount_due):
    """Sent with no language named (the sell screen's way), the e-mail and its PDF follow the customer's
    profile, not the shop's language."""
    account.language = shop_language
    account.save(update_fields=["language"])
    shop = online_shop(account)
    sale = on_account_sale(shop, language=customer_language)
    with django_capture_on_commit_callbacks(execute=True):
        link = pay_link_send(actor=shop.actor, account=account, sale_id=sale.pk, email="camille@example.test")
    assert link.language == customer_language
    outgoing = OutgoingEmail.objects.get(pk=PayLinkEmail.objects.get(link=link).email_id)
    assert outgoing.subject == subject.format(receipt=sale.receipt, shop=account.name)
    assert amount_due in outgoing.text and amount_due in outgoing.html
    text = " ".join(pdf_pages_text(bytes(outgoing.attachments.get().content)))
    assert amount_due in text and sale.receipt in text


def test_rendering_twice_queues_one_email(account, django_capture_on_commit_callbacks):
    sale, link, outgoing = _rendered(account, "fr", django_capture_on_commit_callbacks)
    queued = PayLinkEmail.objects.get(link=link)
    assert pay_link_email_run(email_id=queued.pk) is None
    assert OutgoingEmail.objects.filter(account=account).count() == 1


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_delivered_through_a_real_smtp_server_with_the_pdf(account, settings, django_capture_on_commit_callbacks):
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
            "host": "127.0.0.1", "port": controller.port, "use_tls": False, "timeout": 10}}}
        # Rendered by the pay link's task, then delivered by the e-mail's (both run once committed).
        sale, link, outgoing = _rendered(account, "fr", django_capture_on_commit_callbacks)
        assert email_deliver(email_id=outgoing.pk) is None  # already sent: nothing is sent twice
    finally:
        controller.stop()
    outgoing.refresh_from_db()
    assert outgoing.status == OutgoingEmail.Status.SENT and len(inbox.messages) == 1
    message = email.message_from_bytes(inbox.messages[0], policy=email.policy.default)
    assert message["To"] == "camille@example.test"
    pdfs = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_filename() == f"facture-{sale.receipt}.pdf"
    assert sale.receipt in " ".join(pdf_pages_text(pdfs[0].get_content()))
