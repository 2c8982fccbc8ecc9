from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    path("finance/payments/", views.payment_list, name="list"),
    path("finance/payments/export/", views.payment_export, name="export"),
    path("finance/payments/<int:payment_id>/", views.payment_detail, name="detail"),
    path("finance/payments/<int:payment_id>/refund/", views.payment_refund_view, name="refund"),
    path("setup/payments/", views.payment_settings, name="setup"),
]
