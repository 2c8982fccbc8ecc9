"""Every query of merchant data goes through accounts.tenancy.scoped() (or get_scoped_or_404): no
module of the project filters on the account by hand, where one forgotten filter would show another
shop's rows. Creating a row for an account (`create(account=…)`) is not a query and is left alone."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "billing", "retail", "payments", "saved_cards", "subscriptions", "paylinks", "terminal",
        "posbackoffice")
BY_HAND = re.compile(r"\.(filter|get|exclude)\(\s*(account|account_id)\s*=")
# Deliberate exceptions, each with its reason.
ALLOWED = {
    ("accounts/tenancy.py", "return queryset.filter(account=account)"): "scoped() itself",
    ("accounts/tenancy.py", "chosen = memberships.filter(account_id=wanted).first()"):
        "the signed-in user's own memberships, before any account is chosen",
    ("accounts/views.py", 'membership = Membership.objects.filter(user=request.user, account_id='):
        "switching account: the user's own membership of the account they pick",
    ("accounts/context_processors.py", ".exclude(account=request.account)"):
        "the account switcher: the signed-in user's memberships of other accounts",
}


def _by_hand() -> list[str]:
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            relative = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if not BY_HAND.search(line) or line.lstrip().startswith("#"):
                    continue
                if any(relative == file and snippet in line for file, snippet in ALLOWED):
                    continue
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_query_filters_on_the_account_by_hand():
    assert _by_hand() == [], "use accounts.tenancy.scoped(Model, account) instead"


def test_the_guard_sees_a_query_by_hand():
    assert BY_HAND.search('Sale.objects.filter(account=account, pk=1)')
    assert BY_HAND.search('Sale.objects.select_for_update().get(account_id=account.pk)')
    assert not BY_HAND.search('scoped(Sale, account).filter(pk=1)')
    assert not BY_HAND.search('Sale.objects.create(account=account)')
