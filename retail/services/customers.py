from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.services import audit_record, snapshot
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from retail import customer_extensions
from retail.models import Customer, CustomerType

CUSTOMER_FIELDS = ("first_name", "last_name", "company", "email", "phone", "address_line1", "address_line2",
                   "postcode", "city", "country", "customer_type", "notes")


def clean_single_email(value: str) -> str:
    """Exactly one e-mail address, or none. Lists ("a@x.fr, b@y.fr") are refused, not split."""
    value = (value or "").strip()
    if not value:
        return ""
    if any(sep in value for sep in (",", ";", " ", "\n")) or value.count("@") != 1:
        raise DomainError(_("Enter exactly one e-mail address."))
    try:
        validate_email(value)
    except ValidationError:
        raise DomainError(_("“%(value)s” is not a valid e-mail address.") % {"value": value}) from None
    return value.lower()


def _apply(customer: Customer, account, data: dict) -> None:
    data = {key: (value.strip() if isinstance(value, str) else value) for key, value in data.items()}
    data["email"] = clean_single_email(data.get("email", ""))
    type_id = data.pop("customer_type_id", None)
    customer.customer_type = scoped(CustomerType, account).get(pk=type_id) if type_id else None
    for field in CUSTOMER_FIELDS:
        if field != "customer_type" and field in data:
            setattr(customer, field, data[field])
    customer.country = (customer.country or "").upper()
    if not (customer.first_name or customer.last_name or customer.company):
        raise DomainError(_("A customer needs a first name, a last name or a company."))


@transaction.atomic
def customer_create(*, actor, account, now=None, **data) -> Customer:
    now = now or timezone.now()
    customer = Customer(account=account, created_at=now)
    _apply(customer, account, data)
    customer.save()
    audit_record(account=account, actor=actor, action="customer.created", target=customer,
                 after=snapshot(customer, CUSTOMER_FIELDS), at=now)
    return customer


@transaction.atomic
def customer_update(*, actor, account, customer_id: int, **data) -> Customer:
    customer = scoped(Customer, account).select_for_update().get(pk=customer_id)
    before = snapshot(customer, CUSTOMER_FIELDS)
    _apply(customer, account, data)
    customer.save()
    after = snapshot(customer, CUSTOMER_FIELDS)
    audit_record(account=account, actor=actor, action="customer.updated", target=customer,
                 before=before, after=after)
    changed = frozenset(field for field in CUSTOMER_FIELDS if before.get(field) != after.get(field))
    if changed:
        customer_extensions.customer_changed(account=account, customer=customer, changed=changed)
    return customer


def _type_name(account, name: str, exclude_pk=None) -> str:
    name = name.strip()
    if not name:
        raise DomainError(_("A customer type needs a name."))
    if scoped(CustomerType, account).filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        raise DomainError(_("A customer type named “%(name)s” already exists.") % {"name": name})
    return name


@transaction.atomic
def customer_type_create(*, actor, account, name: str, now=None) -> CustomerType:
    customer_type = CustomerType.objects.create(account=account, name=_type_name(account, name))
    audit_record(account=account, actor=actor, action="customer_type.created", target=customer_type,
                 after={"name": customer_type.name}, at=now)
    return customer_type


@transaction.atomic
def customer_type_rename(*, actor, account, customer_type_id: int, name: str) -> CustomerType:
    customer_type = scoped(CustomerType, account).select_for_update().get(pk=customer_type_id)
    before = {"name": customer_type.name}
    customer_type.name = _type_name(account, name, exclude_pk=customer_type.pk)
    customer_type.save(update_fields=["name"])
    audit_record(account=account, actor=actor, action="customer_type.renamed", target=customer_type,
                 before=before, after={"name": customer_type.name})
    return customer_type


@transaction.atomic
def customer_type_delete(*, actor, account, customer_type_id: int) -> None:
    customer_type = scoped(CustomerType, account).select_for_update().get(pk=customer_type_id)
    in_use = scoped(Customer, account).filter(customer_type=customer_type).count()
    if in_use:
        raise DomainError(ngettext("%(count)s customer has this type; move them to another type first.",
                                   "%(count)s customers have this type; move them to another type first.",
                                   in_use) % {"count": in_use})
    audit_record(account=account, actor=actor, action="customer_type.deleted", target=customer_type,
                 before={"name": customer_type.name})
    customer_type.delete()
