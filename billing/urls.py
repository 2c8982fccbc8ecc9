from django.urls import path

from billing import hold_views, views

app_name = "billing"
urlpatterns = [
    path("setup/billing/", views.billing_settings, name="setup"),
    path("setup/billing/addons/", views.addon_switch, name="addon_switch"),
    path("setup/billing/plan/", views.plan_change, name="plan_change"),
    path("setup/billing/plans/", views.plans_prices, name="plans"),
    path("setup/billing/card/", views.card_update, name="card"),
    path("setup/billing/card/start/", views.card_setup_start, name="card_start"),
    path("setup/billing/card/finish/", views.card_setup_finish, name="card_finish"),
    path("setup/billing/invoices/<int:invoice_id>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("setup/billing/hold/checklist/", hold_views.hold_checklist, name="hold_checklist"),
    path("setup/billing/hold/export/", hold_views.hold_export, name="hold_export"),
    path("setup/billing/suspend/", hold_views.suspend, name="suspend"),
    path("setup/billing/reactivate/", hold_views.reactivate, name="reactivate"),
    path("setup/billing/reactivate/pay/", hold_views.reactivate_pay, name="reactivate_pay"),
]
