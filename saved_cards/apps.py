from django.apps import AppConfig


class SavedCardsConfig(AppConfig):
    name = "saved_cards"
