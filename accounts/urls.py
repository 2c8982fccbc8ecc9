from django.urls import path

from accounts import integration_views, views

auth_patterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("password-reset/done/", views.password_reset_complete, name="password_reset_complete"),
    path("me/language/", views.language_switch, name="language_switch"),
    path("me/account/", views.account_switch, name="account_switch"),
    path("me/account/inactive/", views.account_inactive, name="account_inactive"),
    path("me/notifications/", views.notifications, name="notifications"),
    path("me/notifications/read/", views.notifications_read, name="notifications_read"),
    path("", views.home, name="home"),
]

app_name = "setup"
urlpatterns = [
    path("", views.general_settings, name="general"),
    path("outlets/", views.outlets, name="outlets"),
    path("staff-roles/", views.staff_roles, name="staff_roles"),
    path("staff-roles/new/", views.staff_role_create, name="staff_role_create"),
    path("staff-roles/<int:role_id>/", views.staff_role_edit, name="staff_role_edit"),
    path("staff/add/", views.staff_member_add, name="staff_member_add"),
    path("staff/<int:membership_id>/role/", views.membership_role, name="membership_role"),
    path("activity/", views.activity, name="activity"),
    path("integrations/", integration_views.integrations, name="integrations"),
    path("integrations/xero/connect/", integration_views.accounting_connect, name="accounting_connect"),
    path("integrations/xero/callback/", integration_views.accounting_callback, name="accounting_callback"),
    path("integrations/xero/disconnect/", integration_views.accounting_disconnect, name="accounting_disconnect"),
    path("integrations/xero/post/", integration_views.accounting_post, name="accounting_post"),
    path("integrations/apps/connect/", integration_views.app_connect, name="app_connect"),
    path("integrations/apps/<int:connection_id>/cancel/", integration_views.app_cancel, name="app_cancel"),
]
