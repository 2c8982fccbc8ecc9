from django.urls import path

from paylinks import views

app_name = "paylinks"
urlpatterns = [
    path("finance/payment-links/", views.link_list, name="list"),
    path("setup/on-account/", views.on_account_settings, name="setup"),
]
