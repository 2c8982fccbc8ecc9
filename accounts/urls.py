from django.urls import path

from accounts import views

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
]
