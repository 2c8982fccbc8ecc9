"""factory_boy factories for catalogue and customer rows (Products, Customers and settings tests)."""

import factory
from django.utils import timezone

from retail.models import Customer, CustomerType, PaymentType, Product, Sale, StockLevel, TaxRate
from tests.factories import AccountFactory, OutletFactory, RegisterFactory, owner_of


def default_tax_rate(account) -> TaxRate:
    return TaxRate.objects.filter(account=account).order_by("-is_default", "-rate_bp").first()


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    account = factory.SubFactory(AccountFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Produit {n}")
    price = 1250
    tax_rate = factory.LazyAttribute(lambda o: default_tax_rate(o.account))
    track_inventory = True
    is_active = True


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    product = factory.SubFactory(ProductFactory)
    account = factory.LazyAttribute(lambda o: o.product.account)
    outlet = factory.SubFactory(OutletFactory, account=factory.SelfAttribute("..account"))
    quantity = 0


class CustomerTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerType

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Groupe {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    account = factory.SubFactory(AccountFactory)
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Client{n}")
    email = factory.Sequence(lambda n: f"client{n}@exemple.fr")


class CustomPaymentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentType

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Paiement {n}")
    kind = PaymentType.Kind.CUSTOM
    position = 5


class SaleFactory(factory.django.DjangoModelFactory):
    """A finished sale as the sales history shows it (no lines: for lists and profiles)."""

    class Meta:
        model = Sale

    register = factory.SubFactory(RegisterFactory)
    account = factory.LazyAttribute(lambda o: o.register.account)
    outlet = factory.LazyAttribute(lambda o: o.register.outlet)
    status = Sale.Status.COMPLETED
    receipt_number = factory.Sequence(lambda n: 1000 + n)
    currency = "EUR"
    total = 2000
    paid_total = factory.LazyAttribute(lambda o: o.total)
    created_by = factory.LazyAttribute(lambda o: owner_of(o.account))
    completed_at = factory.LazyFunction(timezone.now)
