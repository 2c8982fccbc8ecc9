"""Money through a processor, one pattern for every feature (design.md, "Money flow for a charge"):

1. `payment_create` writes our Payment (pending) and a PaymentAttempt whose idempotency key is
   derived from our row, and commits.
2. `payment_charge` claims the attempt (a lease: one caller talks to the processor about it at a
   time) and calls the gateway with that key, outside any transaction, retrying transient failures
   with the same key (the processor answers a repeat with the first result).
3. `payment_settle` moves the Payment to succeeded/failed under a row lock; whichever of the answer
   and the webhook comes second changes nothing.
4. What the payment pays for settles in the same transaction: the handler of its purpose
   (payments.settlement: recording the card payment on the sale, a subscription cycle, a merchant
   invoice), with the saved card, then side effects on commit. `payment_reconcile` settles attempts left
   pending by a crash or a timeout: beat's sweep (payments.tasks.reconcile_payments) enqueues one task per
   payment and per refund. In a task nothing sleeps: transient trouble leaves the attempt due for the next
   sweep.
Refunds follow the same steps (`refund_create`, `refund_send`, `refund_settle`).

Every processor call about a payment goes to its payee's gateway (`get_gateway(payment.payee)`): the
shop's processor account, or the platform's for what the merchant pays us.

One module per concept; import from the concept module: `charges` (create, charge, the cardholder's
confirmation, cancel), `settling` (the processor's answer), `reconciling` (answers lost or late, the
sweep's read), `refunds`, `batch` (the batched jobs' create, charge and settle), `standalone` (a
standalone payment becomes a sale's), and what they share, `attempts` (the payee's gateway, the attempt's
lease, inline retries, the payment's row lock).
"""
