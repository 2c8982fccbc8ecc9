from django.contrib import admin
from django.urls import include, path

from accounts.urls import auth_patterns
from posbackoffice import views

handler403 = "posbackoffice.views.permission_denied"
handler404 = "posbackoffice.views.page_not_found"
handler500 = "posbackoffice.views.server_error"

urlpatterns = [
    path("operator/", admin.site.urls),
    path("setup/", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("retail.urls")),
    path("", include("payments.urls")),
    path("", include("payments.webhook_views")),
    path("", include("payments.sell_views")),
    path("sandbox/", include("payments.sandbox.urls")),
    path("", include("saved_cards.urls")),
    path("", include("terminal.urls")),
    path("", include("paylinks.urls")),
    path("subscriptions/", include("subscriptions.urls")),
    *auth_patterns,
    # A large CSV export, written by the worker (every app's lists queue theirs: posbackoffice.export_requests).
    path("exports/<int:job_id>/", views.export_job, name="export_job"),
    path("exports/<int:job_id>/download/", views.export_download, name="export_download"),
    # Sent e-mails, for the demo: the views answer 404 unless DEBUG is on with the outbox backend.
    path("dev/mail/", views.dev_mail_list, name="dev_mail_list"),
    path("dev/mail/<slug:key>/", views.dev_mail_detail, name="dev_mail_detail"),
    path("dev/mail/<slug:key>/html/", views.dev_mail_html, name="dev_mail_html"),
]
