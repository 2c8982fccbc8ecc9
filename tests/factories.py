import factory

from accounts import permissions as perms
from accounts import services
from accounts.models import Membership, Outlet, Register, StaffRole, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@shop.test")
    name = factory.Faker("name", locale="fr_FR")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AccountFactory(factory.Factory):
    """Creates a merchant account through the real service (preset roles, owner membership)."""

    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"Boutique {n}")
    country = "FR"
    currency = "EUR"
    tz = "Europe/Paris"
    language = "fr"
    owner = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, **kwargs):
        from retail.services.shop import shop_setup

        account = services.account_create(**kwargs)
        shop_setup(account=account)
        return account


class OutletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outlet

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Outlet {n}")


class RegisterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Register

    outlet = factory.SubFactory(OutletFactory)
    account = factory.LazyAttribute(lambda o: o.outlet.account)
    name = factory.Sequence(lambda n: f"Register {n}")


def role(account, preset: str) -> StaffRole:
    return StaffRole.objects.get(account=account, preset=preset)


def member(account, preset: str = perms.CASHIER, **user_fields) -> User:
    """A new user on the account's staff with the preset role."""
    user = UserFactory(**user_fields)
    Membership.objects.create(account=account, user=user, role=role(account, preset))
    return user


def owner_of(account) -> User:
    return Membership.objects.get(account=account, role__preset=perms.OWNER).user


def suspend(account) -> None:
    """The account is suspended (the account-hold issue brings the service that does it)."""
    from accounts.models import Account

    Account.objects.filter(pk=account.pk).update(status=Account.Status.SUSPENDED)
    account.refresh_from_db()


def with_addons(account, *codes: str) -> None:
    """The owner switches these add-ons on (all of the catalogue when none is named)."""
    from accounts.addons import ALL_CODES

    for code in codes or sorted(ALL_CODES):
        services.account_addon_enable(actor=owner_of(account), account=account, code=code)
