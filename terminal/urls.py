from django.urls import path

from terminal import views

app_name = "terminal"
urlpatterns = [
    path("setup/payments/terminals/", views.readers, name="readers"),
    path("setup/payments/terminals/<int:reader_id>/rename/", views.reader_rename, name="reader_rename"),
    path("setup/payments/terminals/<int:reader_id>/remove/", views.reader_remove, name="reader_remove"),
    path("setup/payments/terminals/<int:reader_id>/mode/", views.reader_mode, name="reader_mode"),
    path("sell/reader/", views.sell_card, name="sell_card"),
    path("sell/standalone/<int:payment_id>/attach/", views.attach_standalone, name="attach_standalone"),
    path("sell/reader/pay/", views.sell_card_start, name="sell_card_start"),
    path("sell/reader/<int:action_id>/", views.sell_card_status, name="sell_card_status"),
    path("sell/reader/<int:action_id>/cancel/", views.sell_card_cancel, name="sell_card_cancel"),
    path("finance/payments/<int:payment_id>/refund-on-reader/", views.standalone_refund, name="standalone_refund"),
    path("terminal/simulator/<int:reader_id>/", views.simulator, name="simulator"),
    path("terminal/simulator/<int:reader_id>/heartbeat/", views.simulator_heartbeat, name="simulator_heartbeat"),
    path("terminal/simulator/<int:reader_id>/card/", views.simulator_present_card, name="simulator_card"),
    path("terminal/simulator/<int:reader_id>/input/", views.simulator_input, name="simulator_input"),
    path("terminal/simulator/<int:reader_id>/mode/", views.simulator_mode, name="simulator_mode"),
]
