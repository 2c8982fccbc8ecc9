from django.urls import path

from subscriptions import manage_views, views

app_name = "subscriptions"
sub = "<int:subscription_id>"
urlpatterns = [
    path("", views.index, name="index"),
    # Manage plans
    path("plans/", views.plans, name="plans"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/products/", views.plan_products, name="plan_products"),
    path("plans/<int:plan_id>/", views.plan_edit, name="plan_edit"),
    path("plans/<int:plan_id>/archive/", views.plan_archive, name="plan_archive"),
    # Subscribe a customer
    path("subscribe/", views.subscribe, name="subscribe"),
    # Manage subscriptions
    path("manage/", manage_views.subscriptions, name="list"),
    path(f"manage/{sub}/", manage_views.detail, name="detail"),
    path(f"manage/{sub}/pause/", manage_views.pause, name="pause"),
    path(f"manage/{sub}/resume/", manage_views.resume, name="resume"),
    path(f"manage/{sub}/cancel/", manage_views.cancel, name="cancel"),
    path(f"manage/{sub}/notes/", manage_views.notes, name="notes"),
    path(f"manage/{sub}/card/", manage_views.change_card, name="change_card"),
    path(f"manage/{sub}/payments/<int:payment_id>/", manage_views.payment, name="payment"),
    path(f"manage/{sub}/payments/<int:payment_id>/retry/", manage_views.retry, name="retry"),
    path(f"manage/{sub}/payments/<int:payment_id>/refund/", manage_views.refund, name="refund"),
    path("dashboard/", views.dashboard, name="dashboard"),
    # Settings
    path("settings/", views.settings, name="settings"),
]
