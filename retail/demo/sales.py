"""A few weeks of trading at every register of a demo shop, made through the sale and register
services with explicit past moments (`now=`), so the rows are exactly what the sell screen leaves:
receipt numbers, stock moves, closures, on-account balances and the audit trail.

Opening hours: 10:00–19:00, closed on Sundays; outlets after the first are also closed on Mondays,
and an outlet's second register only opens on Saturdays."""

import datetime
import heapq
import random
import re
import zoneinfo
from dataclasses import dataclass

from accounts import permissions as perms
from accounts.models import Membership, Outlet, Register, User
from accounts.tenancy import scoped
from retail.demo import data
from retail.models import Customer, PaymentType, Product, RegisterSession, Sale, StockLevel
from retail.pricing import percent_discount
from retail.services.registers import expected_amounts, register_close, register_open
from retail.services.sale_reversals import sale_return, sale_void
from retail.services.sales import (
    sale_add_payment,
    sale_add_product,
    sale_complete,
    sale_park,
    sale_set_customer,
    sale_start,
    sale_take_payment,
    sale_update_line,
)

OPENS, CLOSES = datetime.time(10, 0), datetime.time(19, 0)
# Completed sales per register and day, (weekday range, Saturday range), before the plan's scale.
FIRST_REGISTER = ((7, 11), (14, 19))
SECOND_REGISTER = ((0, 0), (8, 11))
OTHER_OUTLETS = ((4, 7), (9, 12))
OPENING_FLOATS = (15_000, 10_000)  # first register of an outlet, the others
# Odds that a sale with a customer of this type is left (partly) on account.
ON_ACCOUNT_ODDS = {"Professionnel": 0.6, "VIP": 0.08, "Abonné": 0.05}
CUSTOMER_WEIGHTS = {"VIP": 6, "Abonné": 4, "Professionnel": 3}
CASH_DIFFERENCES = [-200, -100, -50, -50, -20, -10, 10, 20, 50]
NOTES = (500, 1000, 2000, 5000, 10_000, 20_000)
MIN_GAP = datetime.timedelta(minutes=5)


@dataclass
class Till:
    """A register as the demo works it: who sells there, and its session of the day."""

    register: Register
    outlet_index: int
    register_index: int
    department: str
    seller: User
    supervisor: User
    session: RegisterSession | None = None


@dataclass
class Sold:
    sale_id: int
    register_id: int
    day: datetime.date


def department_of_address(address: str) -> str:
    """The French département of a postal address ("8 rue de Brest, 69002 Lyon" → "69")."""
    match = re.search(r"\b(\d{2})\d{3}\b", address)
    return match.group(1) if match else ""


def kind_of(customer: Customer | None) -> str:
    """The customer type's name ("VIP", "Professionnel"…), empty for none."""
    return customer.customer_type.name if customer is not None and customer.customer_type else ""


class Trading:
    def __init__(self, account, *, rng: random.Random, scale: float, fee_sku: str):
        self.account, self.rng, self.scale = account, rng, scale
        self.tz = zoneinfo.ZoneInfo(account.timezone)
        self.tills = self._tills()
        types = scoped(PaymentType, account).filter(is_active=True)
        self.cash = types.get(kind=PaymentType.Kind.CASH)
        self.terminal = types.filter(kind=PaymentType.Kind.CUSTOM, name=data.TERMINAL).first() or self.cash
        self.cheque = types.filter(kind=PaymentType.Kind.CUSTOM, name=data.CHEQUE).first() or self.terminal
        products = list(scoped(Product, account).filter(is_active=True).order_by("pk"))
        weights = {item.sku: item.weight for item in data.CATALOGUE + data.SMALL_CATALOGUE}
        self.goods = [p for p in products if p.track_inventory]
        self.goods_weights = [weights.get(p.sku, 2) for p in self.goods]
        self.tracked = {p.pk for p in self.goods}
        self.fee = next((p for p in products if p.sku == fee_sku), None)
        self.stock = {(row.product_id, row.outlet_id): row.quantity
                      for row in scoped(StockLevel, account)}
        self.customers = list(scoped(Customer, account).select_related("customer_type").order_by("pk"))
        self.fee_paid: set[int] = set()
        self.pending_payments: list[tuple[datetime.date, int, int]] = []
        self.returnable: list[Sold] = []
        self.events: list = []  # the day's (moment, order, action, arguments), earliest first
        self._seq = 0

    # ---- who works where ---------------------------------------------------------------------

    def _tills(self) -> list[Till]:
        order = {perms.CASHIER: 0, perms.MANAGER: 1, perms.ADMIN: 2, perms.OWNER: 3}
        staff = sorted(scoped(Membership, self.account).select_related("user", "role"),
                       key=lambda m: (order.get(m.role.preset, 4), m.pk))
        sellers = [m for m in staff if "sell" in m.role.granted()]
        supervisor = next(m.user for m in staff if "void_refund_sales" in m.role.granted())
        tills = []
        outlets = scoped(Outlet, self.account).order_by("pk")
        for outlet_index, outlet in enumerate(outlets):
            registers = Register.objects.filter(outlet=outlet, is_active=True).select_related("outlet").order_by("pk")
            for register_index, register in enumerate(registers):
                member = sellers[len(tills) % len(sellers)]
                tills.append(Till(register=register, outlet_index=outlet_index, register_index=register_index,
                                  department=department_of_address(outlet.address), seller=member.user,
                                  supervisor=member.user if "void_refund_sales" in member.role.granted()
                                  else supervisor))
        return tills

    def _sales_count(self, till: Till, day: datetime.date) -> int:
        weekday = day.weekday()
        if weekday == 6 or (till.outlet_index and weekday == 0):
            return 0
        if till.register_index:
            ranges = SECOND_REGISTER
        else:
            ranges = OTHER_OUTLETS if till.outlet_index else FIRST_REGISTER
        low, high = ranges[weekday == 5]
        return round(self.rng.randint(low, high) * self.scale)

    # ---- the days ----------------------------------------------------------------------------

    def at(self, day: datetime.date, clock: datetime.time) -> datetime.datetime:
        return datetime.datetime.combine(day, clock, tzinfo=self.tz)

    def run(self, days: list[datetime.date]) -> None:
        for day in days:
            self._day(day, park=day == days[-1])

    def _push(self, moment, action, *args) -> None:
        self._seq += 1
        heapq.heappush(self.events, (moment, self._seq, action, args))

    def _day(self, day: datetime.date, *, park: bool) -> None:
        opens, closes = self.at(day, OPENS), self.at(day, CLOSES)
        working = []
        for till in self.tills:
            count = self._sales_count(till, day)
            if not count:
                continue
            working.append(till)
            till.session = register_open(actor=till.seller, account=self.account, register_id=till.register.pk,
                                         opening_float=OPENING_FLOATS[min(till.register_index, 1)],
                                         now=opens - datetime.timedelta(minutes=self.rng.randint(3, 15)))
            moments = self._moments(opens, closes, count)
            for moment in moments:
                self._push(moment, self._sale, till, day, closes)
            if park and till is working[0] and moments:
                self._push(moments[-1] + MIN_GAP, self._park, till)
            if self.rng.random() < 0.3:
                self._push(self._moment(opens, closes), self._return, till, day)
            for due in [p for p in self.pending_payments if p[2] == till.register.pk and p[0] <= day]:
                self.pending_payments.remove(due)
                self._push(self._moment(opens, closes), self._later_payment, till, due[1])
        while self.events:
            moment, _seq, action, args = heapq.heappop(self.events)
            action(*args, moment)
        for till in working:
            self._close(till, closes + datetime.timedelta(minutes=self.rng.randint(5, 20)))

    def _moment(self, opens, closes) -> datetime.datetime:
        # Afternoons are busier than mornings.
        span = (closes - opens).total_seconds()
        seconds = self.rng.triangular(15 * 60, span - 15 * 60, span * 0.65)
        return opens + datetime.timedelta(seconds=round(seconds))

    def _moments(self, opens, closes, count) -> list[datetime.datetime]:
        """When the sales of a register complete: never two within MIN_GAP, none in the last minutes."""
        moments = []
        for moment in sorted(self._moment(opens, closes) for _ in range(count)):
            if moments and moment < moments[-1] + MIN_GAP:
                moment = moments[-1] + MIN_GAP
            if moment > closes - datetime.timedelta(minutes=10):
                break
            moments.append(moment)
        return moments

    # ---- a sale ------------------------------------------------------------------------------

    def _customer(self, till: Till) -> Customer | None:
        if not self.customers or self.rng.random() >= 0.4:
            return None
        # Regulars come back more often, and mostly to the outlet near where they live.
        weights = [CUSTOMER_WEIGHTS.get(kind_of(c), 1) * (4 if c.postcode[:2] == till.department else 0.25)
                   for c in self.customers]
        return self.rng.choices(self.customers, weights=weights)[0]

    def _basket(self, till: Till, customer: Customer | None) -> list[tuple[Product, int]]:
        kind = kind_of(customer)
        professional = kind == "Professionnel"
        size = self.rng.choices([1, 2, 3, 4, 5], weights=[2, 3, 3, 2, 1] if professional else [52, 30, 13, 5, 0])[0]
        basket, chosen = [], set()
        outlet_id = till.register.outlet_id
        for _attempt in range(size * 3):
            if len(basket) == size or not self.goods:
                break
            product = self.rng.choices(self.goods, weights=self.goods_weights)[0]
            quantity = self.rng.randint(1, 3) if professional else (2 if product.price <= 3000
                                                                   and self.rng.random() < 0.12 else 1)
            if product.pk in chosen or self.stock.get((product.pk, outlet_id), 0) < quantity:
                continue
            chosen.add(product.pk)
            basket.append((product, quantity))
        if kind == "Abonné" and self.fee is not None and customer.pk not in self.fee_paid:
            self.fee_paid.add(customer.pk)
            basket.append((self.fee, 1))
        return basket

    def _payments(self, total: int, customer: Customer | None) -> tuple[list[tuple[PaymentType, int]], bool]:
        """How the customer pays: [(type, amount handed over)], and whether the rest goes on account."""
        rng = self.rng
        if customer is not None and rng.random() < ON_ACCOUNT_ODDS.get(kind_of(customer), 0.02):
            deposit = total * rng.randint(30, 50) // 100 // 1000 * 1000  # a round deposit, or none
            if rng.random() < 0.4 and 0 < deposit < total:
                return [(rng.choice([self.terminal, self.cash]), deposit)], True
            return [], True
        draw = rng.random()
        if draw < 0.34:
            if rng.random() < 0.3:
                return [(self.cash, total)], False
            return [(self.cash, next((note for note in NOTES if note >= total), -(-total // 1000) * 1000))], False
        if draw < 0.88 or (draw < 0.94 and total < 3000):
            return [(self.terminal, total)], False
        if draw < 0.94:
            return [(self.cheque, total)], False
        cash_part = rng.choice([1000, 2000, 5000])
        if cash_part >= total:
            return [(self.terminal, total)], False
        return [(self.cash, cash_part), (self.terminal, total - cash_part)], False

    def _sale(self, till: Till, day: datetime.date, closes, done_at) -> None:
        account, actor, rng = self.account, till.seller, self.rng
        customer = self._customer(till)
        basket = self._basket(till, customer)
        if not basket:
            return
        moment = done_at - datetime.timedelta(seconds=40 + 25 * len(basket) + rng.randint(0, 60))
        sale = sale_start(actor=actor, account=account, register_id=till.register.pk, now=moment)
        lines = []
        for product, quantity in basket:
            moment += datetime.timedelta(seconds=rng.randint(8, 25))
            lines.append(sale_add_product(actor=actor, account=account, sale_id=sale.pk, product_id=product.pk,
                                          quantity=quantity, now=moment))
        # A VIP's type takes 10 % off every line (retail.services.cart_pricing); others may meet a markdown.
        vip = kind_of(customer) == "VIP"
        if customer is not None:
            sale_set_customer(actor=actor, account=account, sale_id=sale.pk, customer_id=customer.pk, now=moment)
        for line in lines:
            if not vip and line.product_id != getattr(self.fee, "pk", None) and rng.random() < 0.03:
                discount = percent_discount(line.quantity * line.unit_price, 2000)  # end-of-line markdown
                sale_update_line(actor=actor, account=account, sale_id=sale.pk, line_id=line.pk,
                                 quantity=line.quantity, discount=discount, now=moment)
        total = Sale.objects.values_list("total", flat=True).get(pk=sale.pk)
        payments, on_account = self._payments(total, customer)
        for payment_type, amount in payments:
            moment += datetime.timedelta(seconds=rng.randint(10, 30))
            sale_add_payment(actor=actor, account=account, sale_id=sale.pk, payment_type_id=payment_type.pk,
                             amount=amount, now=moment)
        sale = sale_complete(actor=actor, account=account, sale_id=sale.pk, on_account=on_account, now=done_at)
        self._move_stock(till.register.outlet_id, [(p.pk, -q) for p, q in basket])
        if on_account and rng.random() < 0.55:
            self.pending_payments.append((day + datetime.timedelta(days=rng.randint(2, 9)), sale.pk,
                                          till.register.pk))
        if any(p.track_inventory for p, _q in basket):
            self.returnable.append(Sold(sale.pk, till.register.pk, day))
        void_at = done_at + datetime.timedelta(minutes=rng.randint(2, 10))
        if rng.random() < 0.015 and void_at < closes:
            self._push(void_at, self._void, till, sale.pk)

    def _move_stock(self, outlet_id: int, moves) -> None:
        """Keep our count of the stock as the services move it, to sell only what is on the shelves."""
        for product_id, delta in moves:
            if product_id in self.tracked:
                self.stock[(product_id, outlet_id)] = self.stock.get((product_id, outlet_id), 0) + delta

    # ---- after the sale ----------------------------------------------------------------------

    def _void(self, till: Till, sale_id: int, moment) -> None:
        sale = sale_void(actor=till.supervisor, account=self.account, sale_id=sale_id,
                         reason=self.rng.choice(data.VOID_REASONS), now=moment)
        self._move_stock(sale.outlet_id, [(line.product_id, line.quantity) for line in sale.lines.all()])
        self.returnable = [sold for sold in self.returnable if sold.sale_id != sale_id]

    def _return(self, till: Till, day: datetime.date, moment) -> None:
        candidates = [sold for sold in self.returnable
                      if sold.register_id == till.register.pk and 1 <= (day - sold.day).days <= 14]
        if not candidates:
            return
        sold = self.rng.choice(candidates)
        self.returnable.remove(sold)
        sale = Sale.objects.get(pk=sold.sale_id)
        line = self.rng.choice([line for line in sale.lines.all() if line.product_id in self.tracked])
        # Money goes back on the terminal when it came that way and today's terminal takings cover it (a
        # closure cannot count a negative amount), in cash otherwise; cheques are not written back.
        paid = [p.payment_type_id for p in sale.payments.all() if p.amount > 0]
        takings = expected_amounts(till.session).get(self.terminal.pk, 0)
        refund_type = self.terminal if self.terminal.pk in paid and takings >= line.line_total else self.cash
        sale_return(actor=till.supervisor, account=self.account, sale_id=sale.pk, quantities={line.pk: 1},
                    refund_payment_type_id=refund_type.pk, reason=self.rng.choice(data.RETURN_REASONS), now=moment)
        self._move_stock(sale.outlet_id, [(line.product_id, 1)])

    def _later_payment(self, till: Till, sale_id: int, moment) -> None:
        sale = Sale.objects.get(pk=sale_id)
        if sale.status != Sale.Status.ON_ACCOUNT or sale.balance_due <= 0:
            return
        amount = sale.balance_due if self.rng.random() < 0.7 else max(100, sale.balance_due // 2 // 100 * 100)
        payment_type = self.rng.choice([self.cheque, self.cheque, self.terminal, self.cash])
        sale_take_payment(actor=till.seller, account=self.account, sale_id=sale.pk, payment_type_id=payment_type.pk,
                          amount=min(amount, sale.balance_due), now=moment)

    def _park(self, till: Till, moment) -> None:
        """A sale waiting for its customer on the last day: the sell screen offers to resume it."""
        outlet_id = till.register.outlet_id
        in_stock = [p for p in self.goods if self.stock.get((p.pk, outlet_id), 0) > 0]
        if not in_stock:
            return
        sale = sale_start(actor=till.seller, account=self.account, register_id=till.register.pk, now=moment)
        for product in self.rng.sample(in_stock, min(2, len(in_stock))):
            sale_add_product(actor=till.seller, account=self.account, sale_id=sale.pk, product_id=product.pk,
                             now=moment)
        sale_park(actor=till.seller, account=self.account, sale_id=sale.pk, note=data.PARKED_NOTE, now=moment)

    def _close(self, till: Till, moment) -> None:
        counted = expected_amounts(till.session)
        note = ""
        if self.rng.random() < 0.3:
            counted[self.cash.pk] = max(0, counted[self.cash.pk] + self.rng.choice(CASH_DIFFERENCES))
            note = self.rng.choice(data.CLOSING_NOTES)
        register_close(actor=till.seller, account=self.account, session_id=till.session.pk, counted=counted,
                       note=note, now=moment)
        till.session = None
