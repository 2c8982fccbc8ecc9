from django.apps import AppConfig


class PosbackofficeConfig(AppConfig):
    name = "posbackoffice"
    verbose_name = "posbackoffice"
