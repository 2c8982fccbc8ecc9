from retail.views import catalogue, customers, fulfilments, history, reports, sell, settings

app_name = "retail"
urlpatterns = [
    *sell.urlpatterns,
    *history.urlpatterns,
    *catalogue.urlpatterns,
    *customers.urlpatterns,
    *fulfilments.urlpatterns,
    *reports.urlpatterns,
    *settings.urlpatterns,
]
