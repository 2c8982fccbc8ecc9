"""Demo data of the card readers, loaded by `manage.py demo_data` after payments': one simulated WisePOS E
per register of the demo shop (registered through the service with the sandbox's code `simulated-wpe`),
in integrated mode, so the sell screen's Pay › Credit/Debit › Card reader works at once and Setup ›
Payments › Terminals links to each reader's simulated screen. Only with the sandbox processor; skipped
when the account has readers."""

from accounts import permissions as perms
from accounts.models import Membership, Register
from accounts.tenancy import scoped
from payments.gateway import MERCHANT, get_gateway
from terminal.models import Reader
from terminal.services import reader_register

SIMULATED_CODE = "simulated-wpe"


def load(account) -> None:
    if get_gateway(MERCHANT).name != "sandbox" or scoped(Reader, account).exists():
        return
    actor = scoped(Membership, account).get(role__preset=perms.OWNER).user
    registers = scoped(Register, account).filter(is_active=True).select_related("outlet").order_by("outlet__name",
                                                                                                   "name")
    for number, register in enumerate(registers, start=1):
        reader_register(actor=actor, account=account, outlet_id=register.outlet_id, register_id=register.pk,
                        registration_code=SIMULATED_CODE, label=f"WisePOS E {number} — {register.name}"[:60])
