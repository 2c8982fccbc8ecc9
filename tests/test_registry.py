"""The one registry type (posbackoffice.registry) and the project's registries made of it."""

import pytest
from django.apps import apps

from accounts import settings_sections
from payments import card_saving, event_handlers, refund_routes, settings_services, settlement
from payments import settings_sections as payments_sections
from payments.sandbox import events as sandbox_events
from posbackoffice import exports
from posbackoffice.registry import AlreadyRegistered, NotRegistered, Registry
from retail import customer_extensions, sell_actions
from saved_cards import protection


def test_entries_are_listed_by_their_order_then_their_key_whatever_order_they_came_in():
    registry = Registry("things")
    registry.register("zebra", "z")
    registry.register("late", "l", order=50)
    registry.register("apple", "a")
    registry.register("early", "e", order=-5)

    assert registry.keys() == ["early", "apple", "zebra", "late"]
    assert registry.values() == ["e", "a", "z", "l"] == list(registry)
    assert registry.items()[0] == ("early", "e")
    assert registry.first() == "e" and len(registry) == 4 and "apple" in registry and "pear" not in registry


def test_an_entry_is_looked_up_by_its_key_and_an_unknown_key_says_what_is_there():
    registry = Registry("export kinds")
    registry.register("sales", "the sales")

    assert registry.get("sales") == "the sales"
    with pytest.raises(NotRegistered, match=r"export kinds: nothing is registered under 'payments' "
                                            r"\(registered: sales\)"):
        registry.get("payments")
    with pytest.raises(LookupError):
        Registry("empty").get("anything")
    assert Registry("empty").first() is None


def test_registering_the_same_entry_again_is_harmless_and_another_one_under_its_key_is_refused():
    registry = Registry("sections")
    entry = object()
    registry.register("saved_cards", entry, order=3)
    registry.register("saved_cards", entry, order=3)  # a second ready()

    with pytest.raises(AlreadyRegistered, match="sections: 'saved_cards' is already registered"):
        registry.register("saved_cards", object(), order=3)
    with pytest.raises(AlreadyRegistered):
        registry.register("saved_cards", entry, order=4)
    assert registry.items() == [("saved_cards", entry)]


def test_equal_value_entries_count_as_the_same_entry():
    registry = Registry("actions")
    registry.register("manual", sell_actions.SellPaymentAction(group="Credit/Debit", label="Manual entry",
                                                               url_name="payments_sell:card"))
    registry.register("manual", sell_actions.SellPaymentAction(group="Credit/Debit", label="Manual entry",
                                                               url_name="payments_sell:card"))

    assert len(registry) == 1


def test_a_single_entry_registry_refuses_a_second_key():
    registry = Registry("card savers", single=True)
    registry.register("saved_cards", "saver")

    with pytest.raises(AlreadyRegistered, match="card savers holds one entry"):
        registry.register("other", "another saver")
    assert registry.first() == "saver"


def test_keys_are_non_empty_strings():
    with pytest.raises(TypeError):
        Registry("things").register("", "x")
    with pytest.raises(TypeError):
        Registry("things").register(3, "x")


def test_a_copy_takes_new_entries_without_changing_the_original():
    registry = Registry("protectors")
    registry.register("balance", "rule")
    clone = registry.copy()
    clone.register("subscriptions", "another rule")

    assert registry.keys() == ["balance"] and clone.keys() == ["balance", "subscriptions"]
    assert type(settings_sections.GENERAL.copy()) is type(settings_sections.GENERAL)


# ---- the project's registries ----------------------------------------------------------------------

OUR_APPS = {"posbackoffice", "accounts", "retail", "payments", "payments.sandbox", "saved_cards", "subscriptions",
            "paylinks", "terminal", "billing"}
PROJECT_REGISTRIES = {
    "sell actions": (lambda: sell_actions.ACTIONS, ["card_reader", "card_manual_entry", "saved_payments"]),
    "cart notices": (lambda: sell_actions.NOTICE_PROVIDERS, ["pending_card_payments",
                                                             "standalone_payments_to_attach"]),
    "processor event handlers": (lambda: event_handlers.HANDLERS, ["terminal.reader.action_failed",
                                                                   "terminal.reader.action_succeeded"]),
    "Setup › Payments sections": (lambda: payments_sections.PAYMENTS, ["terminals"]),
    "refund routes": (lambda: refund_routes.ROUTES, ["standalone_on_reader"]),
    "standalone mode turned off": (lambda: settings_services.STANDALONE_OFF_CHECKS, ["terminal_readers"]),
    "customer profile sections": (lambda: customer_extensions.PROFILE, ["saved_cards"]),
    "customer list filters": (lambda: customer_extensions.FILTERS, ["card_expiring"]),
    "Setup › General sections": (lambda: settings_sections.GENERAL, ["saved_cards"]),
    "card savers": (lambda: card_saving.SAVERS, ["saved_cards"]),
    "saved card protectors": (lambda: protection.PROTECTORS, ["owed_on_account", "subscriptions"]),
    "settlement handlers": (lambda: settlement.HANDLERS, ["merchant_invoice", "none", "sale", "subscription_cycle"]),
    "sandbox event receivers": (lambda: sandbox_events.RECEIVERS, ["payments"]),
}


@pytest.mark.parametrize("name", PROJECT_REGISTRIES)
def test_each_registry_holds_what_the_apps_registered_and_a_second_ready_changes_nothing(name):
    registry, keys = PROJECT_REGISTRIES[name]
    assert isinstance(registry(), Registry)
    assert registry().keys() == keys

    for config in apps.get_app_configs():
        if config.name in OUR_APPS:
            config.ready()

    assert registry().keys() == keys


def test_every_export_kind_is_in_the_one_registry():
    assert {"sales", "products", "customers", "payments", "report_sales_by_day"} <= set(exports.REGISTRY.keys())
