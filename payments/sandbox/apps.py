from django.apps import AppConfig


class PaymentsSandboxConfig(AppConfig):
    """The offline card processor (PAYMENTS_GATEWAY or PLATFORM_PAYMENTS_GATEWAY=sandbox): its own state,
    its tokenizer and confirm endpoints, and the browser's card-entry stand-in. Nothing here belongs to
    a merchant."""

    name = "payments.sandbox"
    label = "payments_sandbox"
    verbose_name = "Sandbox card processor"
