from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.services import audit_record, snapshot
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from retail import customer_extensions
from retail.models import Customer, CustomerType
from retail.pricing import BASIS_POINTS
from retail.services.cart_pricing import carts_follow_customers, lock_carts

CUSTOMER_FIELDS = ("first_name", "last_name", "company", "email", "phone", "address_line1", "address_line2",
                   "postcode", "city", "country", "customer_type", "notes", "language")


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
    if customer.language not in dict(settings.LANGUAGES):
        customer.language = account.language  # none chosen: the shop's
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
    """Change a customer's details; a change of type is followed by their sales in progress (cart_pricing)."""
    carts = lock_carts(account, customer_id=customer_id)  # sales before the customer: the sale services' order
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
    if "customer_type" in changed:
        carts_follow_customers(actor=actor, account=account, carts=carts)
    return customer


@transaction.atomic
def customer_type_assign(*, actor, account, customer_id: int, customer_type_id: int | None,
                         only_if_type_id: int | None = None, reason: str = "", now=None) -> Customer:
    """Give the customer this type (None: no type), e.g. when they subscribe to a plan that names one, or take
    it off when the subscription ends. Audited (`customer.type_changed`, type before and after, and `reason`);
    nothing is written when the customer already has it. `only_if_type_id`: change it only while the
    customer still has that type (a subscription taking back the type it gave leaves alone one set by hand
    since). Their open and parked sales follow the new type's discount
    (except a sale with payments taken, which keeps the discount it was paid with)."""
    now = now or timezone.now()
    carts = lock_carts(account, customer_id=customer_id)
    customer = (scoped(Customer, account).select_for_update(of=("self",)).select_related("customer_type")
                .get(pk=customer_id))
    customer_type = scoped(CustomerType, account).get(pk=customer_type_id) if customer_type_id else None
    if only_if_type_id is not None and customer.customer_type_id != only_if_type_id:
        return customer
    if customer.customer_type_id == customer_type_id:
        return customer
    before = {"customer_type": customer.customer_type_id,
              "customer_type_name": customer.customer_type.name if customer.customer_type else ""}
    customer.customer_type = customer_type
    customer.save(update_fields=["customer_type"])
    audit_record(account=account, actor=actor, action="customer.type_changed", target=customer, before=before,
                 after={"customer_type": customer_type_id, "customer_type_name": customer_type.name if customer_type
                        else ""} | ({"reason": reason} if reason else {}), at=now)
    customer_extensions.customer_changed(account=account, customer=customer, changed=frozenset({"customer_type"}))
    carts_follow_customers(actor=actor, account=account, carts=carts, now=now)
    return customer


def _type_name(account, name: str, exclude_pk=None) -> str:
    name = name.strip()
    if not name:
        raise DomainError(_("A customer type needs a name."))
    if scoped(CustomerType, account).filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        raise DomainError(_("A customer type named “%(name)s” already exists.") % {"name": name})
    return name


def _type_discount(discount_bp: int) -> int:
    if not 0 <= discount_bp <= BASIS_POINTS:
        raise DomainError(_("A discount must be between 0 and 100 %."))
    return discount_bp


@transaction.atomic
def customer_type_create(*, actor, account, name: str, discount_bp: int = 0, now=None) -> CustomerType:
    """A new customer type; `discount_bp` (basis points: 1000 is 10 %) is taken off its customers' sales."""
    customer_type = CustomerType.objects.create(account=account, name=_type_name(account, name),
                                                discount_bp=_type_discount(discount_bp))
    audit_record(account=account, actor=actor, action="customer_type.created", target=customer_type,
                 after={"name": customer_type.name, "discount_bp": customer_type.discount_bp}, at=now)
    return customer_type


@transaction.atomic
def customer_type_ensure(*, actor, account, name: str, now=None) -> CustomerType:
    """The type of that name (whatever its case), created without discount when there is none: what a
    subscription plan's "Customer type" names. Creating it is audited as customer_type_create does."""
    name = name.strip()
    existing = scoped(CustomerType, account).filter(name__iexact=name).first() if name else None
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return customer_type_create(actor=actor, account=account, name=name, now=now)
    except IntegrityError:  # made at the same moment by someone else: theirs is the one
        return scoped(CustomerType, account).get(name=name)


@transaction.atomic
def customer_type_update(*, actor, account, customer_type_id: int, name: str, discount_bp: int,
                         now=None) -> CustomerType:
    """Rename a type and set its discount; the open and parked sales of its customers follow (cart_pricing)."""
    customer_type = scoped(CustomerType, account).select_for_update().get(pk=customer_type_id)
    before = {"name": customer_type.name, "discount_bp": customer_type.discount_bp}
    customer_type.name = _type_name(account, name, exclude_pk=customer_type.pk)
    customer_type.discount_bp = _type_discount(discount_bp)
    after = {"name": customer_type.name, "discount_bp": customer_type.discount_bp}
    if after == before:
        return customer_type
    customer_type.save(update_fields=["name", "discount_bp"])
    audit_record(account=account, actor=actor, action="customer_type.changed", target=customer_type,
                 before=before, after=after, at=now)
    carts = lock_carts(account, customer_type_id=customer_type.pk)
    carts_follow_customers(actor=actor, account=account, carts=carts, now=now)
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
                 before={"name": customer_type.name, "discount_bp": customer_type.discount_bp})
    customer_type.delete()
