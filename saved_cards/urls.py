from django.urls import path

from saved_cards import public_views, sell_views, views

app_name = "saved_cards"
customer = "customers/<int:customer_id>/cards"
urlpatterns = [
    # Setup › General › Saved payment method
    path("setup/saved-payment-method/", views.feature, name="feature"),
    path("setup/saved-payment-method/terms/", views.terms, name="terms"),
    path("setup/saved-payment-method/enabled/", views.enabled, name="enabled"),
    # The customer profile
    path(f"{customer}/add/", views.card_add, name="add"),
    path(f"{customer}/setups/", views.setup_start, name="setup_start"),
    path(f"{customer}/setups/<int:setup_id>/finish/", views.setup_finish, name="setup_finish"),
    path(f"{customer}/save/", views.cards_save, name="save_changes"),
    path(f"{customer}/invite/", views.invite_create, name="invite_create"),
    path(f"{customer}/invites/<int:invite_id>/", views.invite, name="invite"),
    path(f"{customer}/update-link/", views.update_link, name="update_link"),
    # The sell screen
    path("sell/saved-card/", sell_views.saved_payments, name="sell"),
    path("sell/saved-card/charge/", sell_views.charge, name="sell_charge"),
    # The customer's own page (public, reached by a signed link)
    path("card/<str:token>/", public_views.card_page, name="card_page"),
    path("card/<str:token>/setups/", public_views.card_setup_start, name="card_setup_start"),
    path("card/<str:token>/setups/<int:setup_id>/finish/", public_views.card_setup_finish, name="card_setup_finish"),
]
