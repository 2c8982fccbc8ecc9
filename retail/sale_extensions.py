"""What apps above retail (which retail must not import) add to sales, registered in their
AppConfig.ready into the registries below (posbackoffice.registry):

- sections of a sale's page in the Sales history (DETAIL): paylinks adds "Email receipt with pay link"
  for an on-account sale. A provider gets the request and the sale and answers None to stay out;
- options of completing a sale on account at the sell screen (COMPLETION_OPTIONS): paylinks adds "Email a
  receipt with pay link to …". An option shows its template in the on-account panel (its `context(request,
  sale)` answers None to stay out), names the form fields it reads, and is told, inside `sale_complete`'s
  transaction, that the sale was completed with the values of those fields: what it refuses (a
  DomainError) completes nothing;
- listeners of a sale's money (LISTENERS): told, inside the changing transaction, that an on-account
  sale took a payment (`payment_taken`, with our processor payment's id when the card processor took it),
  was voided (`voided`) or had goods returned (`returned`). Paylinks completes or deactivates the sale's
  pay link."""

from collections.abc import Callable
from dataclasses import dataclass

from posbackoffice.extensions import Section, Sections
from posbackoffice.registry import Registry

__all__ = ["DETAIL", "COMPLETION_OPTIONS", "LISTENERS", "Section", "CompletionOption", "completion_options",
           "sale_changed"]

DETAIL = Sections("sale detail sections")


@dataclass(frozen=True)
class CompletionOption:
    template: str
    context: Callable  # (request, sale) -> dict, or None to leave the option out
    fields: tuple[str, ...]  # the form fields it reads
    completed: Callable  # (*, actor, account, sale, values: dict[str, str]) -> None


COMPLETION_OPTIONS: Registry[CompletionOption] = Registry("on-account completion options")


def completion_options(request, sale) -> list[dict]:
    """[{"key", "template", "context"}] of the options shown for this sale, in the registry's order."""
    shown = []
    for key, option in COMPLETION_OPTIONS.items():
        context = option.context(request, sale)
        if context is not None:
            shown.append({"key": key, "template": option.template, "context": context})
    return shown


def completion_values(data) -> dict[str, dict[str, str]]:
    """What each option reads of a submitted form (a QueryDict): {key: {field: value}}."""
    return {key: {name: data.get(name, "") for name in option.fields} for key, option in COMPLETION_OPTIONS.items()}


def sale_completed(*, actor, account, sale, options: dict[str, dict[str, str]]) -> None:
    """Called by sale_complete, in its transaction, with the options' values."""
    for key, values in options.items():
        COMPLETION_OPTIONS.get(key).completed(actor=actor, account=account, sale=sale, values=values)


# listener(*, account, sale, event: str, actor, processor_payment_id: int | None, at) -> None
LISTENERS: Registry[Callable] = Registry("sale money listeners")


def sale_changed(*, account, sale, event: str, actor, processor_payment_id: int | None = None, at=None) -> None:
    for listener in LISTENERS.values():
        listener(account=account, sale=sale, event=event, actor=actor, processor_payment_id=processor_payment_id,
                 at=at)
