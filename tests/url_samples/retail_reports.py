from retail.models import PaymentType
from tests.retail.report_factories import close_register, make_shop, open_register


def _closed_session(account):
    shop = make_shop(account, cheque=False)
    session = open_register(shop, opening_float=1000)
    cash = PaymentType.objects.get(account=account, kind=PaymentType.Kind.CASH)
    close_register(shop, session, counted={cash.pk: 900}, note="Sample closure")
    return {"session_id": session.pk}


SAMPLES = {
    "retail:report_closure_detail": _closed_session,
}
