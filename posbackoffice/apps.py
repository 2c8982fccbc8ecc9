from django.apps import AppConfig


class PosbackofficeConfig(AppConfig):
    name = "posbackoffice"
    verbose_name = "posbackoffice"

    def ready(self):
        from posbackoffice import checks  # noqa: F401  (registers the deployment checks)
