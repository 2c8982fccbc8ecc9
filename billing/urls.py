from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("setup/billing/", views.billing_settings, name="setup"),
    path("setup/billing/addons/", views.addon_switch, name="addon_switch"),
]
