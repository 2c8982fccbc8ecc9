"""The header bell: notifications for staff, shown on every page, polled so they appear without reloading,
marked read one by one or all at once; only one's own."""

import pytest
from django.urls import reverse

from accounts.models import Notification
from accounts.services import notification_create
from tests.factories import member, owner_of

pytestmark = pytest.mark.django_db


def test_the_bell_shows_unread_notifications_and_polls(owner_client, owner, account):
    notification_create(account=account, user=owner, text="Camille Martin a payé 24,50 €", url="/history/1/")
    page = owner_client.get(reverse("home"), follow=True).content.decode()
    assert 'hx-get="/me/notifications/"' in page and 'hx-trigger="every 5s"' in page
    assert "Camille Martin a payé 24,50 €" in page and 'data-bell-count>1<' in page
    partial = owner_client.get(reverse("notifications"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "Camille Martin a payé" in partial and 'href="/history/1/"' in partial


def test_marking_read(owner_client, owner, account):
    first = notification_create(account=account, user=owner, text="one")
    notification_create(account=account, user=owner, text="two")
    owner_client.post(reverse("notifications_read"), {"notification": first.pk}, headers={"HX-Request": "true"})
    assert list(Notification.objects.filter(read_at__isnull=True).values_list("text", flat=True)) == ["two"]
    owner_client.post(reverse("notifications_read"), {}, headers={"HX-Request": "true"})
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_only_ones_own_notifications(client, account, other_account):
    mine = member(account)
    theirs = notification_create(account=account, user=owner_of(account), text="not yours")
    elsewhere = notification_create(account=other_account, user=owner_of(other_account), text="elsewhere")
    client.force_login(mine)
    assert "not yours" not in client.get(reverse("notifications")).content.decode()
    client.post(reverse("notifications_read"), {"notification": theirs.pk})
    client.post(reverse("notifications_read"), {"notification": elsewhere.pk})
    assert Notification.objects.filter(read_at__isnull=True).count() == 2


def test_a_bad_id_changes_nothing(owner_client, owner, account):
    notification_create(account=account, user=owner, text="one")
    response = owner_client.post(reverse("notifications_read"), {"notification": "１２"})
    assert response.status_code == 400 and Notification.objects.filter(read_at__isnull=True).count() == 1
