"""The worker's side of the e-mail outbox (accounts.tasks.deliver_email): hand a queued e-mail to the
mail server and record the outcome. Queuing is accounts.services.email_queue; the work of a task never
lives in the module that queues it, so the two do not import each other."""

import logging
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.utils import timezone as dj_timezone

from accounts.models import OutgoingEmail
from posbackoffice import jobs

logger = logging.getLogger(__name__)

# A worker holds an e-mail this long while handing it to the mail server (whose timeout is 15 s).
EMAIL_LEASE_SECONDS = 60
# Backoff between deliveries: 30 s doubling up to 10 minutes, jittered; OutgoingEmail.MAX_TRIES in all.
EMAIL_RETRY_BASE_SECONDS, EMAIL_RETRY_CAP_SECONDS = 30, 600


def _message(email: OutgoingEmail) -> EmailMultiAlternatives:
    # One Message-ID per row: a delivery repeated after a crash (the server took it, we never recorded
    # it) carries the same id, which mail systems use to drop duplicates.
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    message = EmailMultiAlternatives(subject=email.subject, body=email.text, to=email.recipients,
                                     headers={"Message-ID": f"<outbox-{email.pk}@{domain}>"})
    if email.html:
        message.attach_alternative(email.html, "text/html")
    for attachment in email.attachments.all():
        message.attach(attachment.filename, bytes(attachment.content), attachment.mimetype)
    return message


def email_deliver(*, email_id: int) -> OutgoingEmail | None:
    """The worker's side: claim the queued e-mail, hand it to the mail server, record the outcome.
    None when another worker holds it, its retry is not due yet, or it is no longer queued. A failure
    is retried with backoff (jobs.TryLater) until MAX_TRIES, then the e-mail stays failed."""
    claim = jobs.claim(OutgoingEmail, email_id, seconds=EMAIL_LEASE_SECONDS,
                       due=Q(status=OutgoingEmail.Status.QUEUED), tries=F("tries") + 1)
    if claim is None:
        return None
    email = OutgoingEmail.objects.get(pk=email_id)
    try:
        _message(email).send()
    except Exception as error:  # any failure to hand it over (SMTP, network, backend): counted, retried
        code = type(error).__name__[:60]
        if email.tries >= OutgoingEmail.MAX_TRIES:
            claim.release(status=OutgoingEmail.Status.FAILED, last_error=code)
            logger.warning("e-mail %s not delivered after %s tries (%s): given up", email.pk, email.tries, code)
            return email
        countdown = jobs.backoff(email.tries, base=EMAIL_RETRY_BASE_SECONDS, cap=EMAIL_RETRY_CAP_SECONDS)
        claim.release(hold=countdown, last_error=code)
        logger.warning("e-mail %s not delivered (%s): try %s of %s in %.0f s", email.pk, code, email.tries + 1,
                       OutgoingEmail.MAX_TRIES, countdown)
        raise jobs.TryLater(countdown) from None
    claim.release(status=OutgoingEmail.Status.SENT, sent_at=dj_timezone.now(), last_error="")
    email.refresh_from_db()
    return email
