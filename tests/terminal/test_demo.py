"""The demo shop's card readers: one simulated WisePOS E per register, in integrated mode, online; nothing
added when the demo loads again."""

import io

import pytest
from django.core.management import call_command

from accounts.models import Account, Register
from terminal.models import Reader

pytestmark = pytest.mark.django_db


def test_the_demo_shop_has_one_simulated_reader_per_register():
    call_command("demo_data", "--small", stdout=io.StringIO())
    shop = Account.objects.get(name="Boutique Léa")
    registers = set(Register.objects.filter(outlet__account=shop, is_active=True).values_list("pk", flat=True))
    readers = Reader.objects.filter(account=shop)
    assert set(readers.values_list("register_id", flat=True)) == registers
    assert {(reader.mode, reader.device_type, reader.processor) for reader in readers} == {
        ("integrated", "simulated_wisepos_e", "sandbox")}

    call_command("demo_data", "--small", stdout=io.StringIO())
    assert Reader.objects.filter(account=shop).count() == len(registers)
