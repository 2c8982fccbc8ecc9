"""Reads of pay links, always scoped to the account."""

from accounts.tenancy import get_scoped_or_404, scoped
from paylinks.models import PayLink
from posbackoffice.keyset import Keyset, KeysetPage

LINK_PAGES = Keyset(PayLink, "-created_at", "-id", size=50)
TABS = (PayLink.Status.ACTIVE, PayLink.Status.COMPLETED, PayLink.Status.DEACTIVATED)


def links_page(account, status: str | None, *, after: str | None = None, before: str | None = None) -> KeysetPage:
    """Finance › Payment links: every link, newest first, or one tab's (Active / Completed / Deactivated)."""
    links = scoped(PayLink, account).select_related("sale__customer", "sale__outlet")
    if status in TABS:
        links = links.filter(status=status)
    return LINK_PAGES.page(links, after=after, before=before)


def link_detail(account, link_id: int) -> PayLink:
    return get_scoped_or_404(PayLink.objects.select_related("sale__customer", "sale__outlet", "payment",
                                                            "created_by"), account, pk=link_id)


def sale_links(account, sale) -> list[PayLink]:
    return list(scoped(PayLink, account).filter(sale=sale).order_by("-created_at", "-id"))
