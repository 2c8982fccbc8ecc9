"""Views of the POS core, one module per area; each module exposes its own `urlpatterns`."""
