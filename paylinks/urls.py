from django.urls import path

from paylinks import public_views, views

app_name = "paylinks"
urlpatterns = [
    # Finance › Payment links
    path("finance/payment-links/", views.link_list, name="list"),
    path("finance/payment-links/<int:link_id>/", views.link_detail, name="detail"),
    path("finance/payment-links/<int:link_id>/deactivate/", views.link_deactivate, name="deactivate"),
    # Setup › On-account sales
    path("setup/on-account/", views.on_account_settings, name="setup"),
    # Sales history › a sale › Email receipt with pay link
    path("history/<int:sale_id>/pay-link/", views.send, name="send"),
    # The customer's pay page (public, reached by the signed link)
    path("pay/<str:token>/", public_views.pay, name="pay"),
    path("pay/<str:token>/invoice.pdf", public_views.invoice, name="invoice"),
    path("pay/<str:token>/payments/", public_views.pay_start, name="pay_start"),
    path("pay/<str:token>/payments/<int:payment_id>/finish/", public_views.pay_finish, name="pay_finish"),
    path("pay/<str:token>/paid/", public_views.paid, name="paid"),
]
