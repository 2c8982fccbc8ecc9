"""Seams between putting an account on hold (billing) and the apps that take part in it, which billing
must not import or which sit below it (accounts' integrations, subscriptions).

Three registries, each filled in an `AppConfig.ready`:

- `CHECKLIST_SECTIONS`: the sections of the "Before putting your account on hold" page (billing's
  checklist) that another app owns: the accounting integration's unposted closures and on-account
  sales with "Post now", the third-party apps whose monthly charges continue during the hold. A
  `posbackoffice.extensions.Sections`: each `Section` names a template and a context function
  `(request) -> dict or None`; billing renders the shown ones (`CHECKLIST_SECTIONS.shown(request)`) in
  order, after its own export links. Nothing on the checklist blocks the hold: it informs.
- `INTEGRATIONS_IN_USE`: functions `(account) -> iterable of IntegrationInUse` naming what the account
  has connected (the accounting integration, each third-party app). A plan lists the keys it allows;
  reactivation onto a plan that does not allow one of them cannot be completed until it is removed or
  another plan is chosen (`integrations_in_use` reads them all).
- `ON_REACTIVATED`: functions `(account, *, held_since, now)` called inside reactivation's transaction,
  once the account is active again, so that what was stopped resumes on its own schedule with no
  back-charges for the hold (subscriptions move their next billing date to the first boundary after
  `now`; a fixed duration does not count the held periods). They must not call a processor: side
  effects go through `transaction.on_commit`.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from posbackoffice.extensions import Section, Sections
from posbackoffice.registry import Registry

__all__ = ["CHECKLIST_SECTIONS", "INTEGRATIONS_IN_USE", "ON_REACTIVATED", "IntegrationInUse", "Section",
           "integrations_in_use", "reactivated"]


@dataclass(frozen=True)
class IntegrationInUse:
    key: str  # what a plan's allowed integrations list ("xero", "app:<slug>")
    label: str  # the name the merchant knows it by
    manage_url: str = ""  # where it is removed


CHECKLIST_SECTIONS = Sections("hold checklist sections")
INTEGRATIONS_IN_USE: Registry[Callable[..., Iterable[IntegrationInUse]]] = Registry("integrations in use")
ON_REACTIVATED: Registry[Callable[..., None]] = Registry("on account reactivated")


def integrations_in_use(account) -> list[IntegrationInUse]:
    """Everything the account has connected, from every app that connects something, by key."""
    found: dict[str, IntegrationInUse] = {}
    for provider in INTEGRATIONS_IN_USE.values():
        for integration in provider(account):
            found.setdefault(integration.key, integration)
    return [found[key] for key in sorted(found)]


def reactivated(account, *, held_since, now) -> None:
    """Tell every app that took part in the hold that the account is active again (see ON_REACTIVATED)."""
    for listener in ON_REACTIVATED.values():
        listener(account, held_since=held_since, now=now)
