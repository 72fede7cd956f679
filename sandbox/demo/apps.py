from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The sandbox's own app: demo set-up commands, nothing the plugin needs."""

    name = "demo"
    verbose_name = "Sandbox demo"
    default_auto_field = "django.db.models.BigAutoField"
