from django.urls import path

from consent.views import employee

urlpatterns = [
    path("", employee.home, name="home"),
    path("explanation/", employee.explanation, name="explanation"),
    path("explanation/acknowledge/", employee.acknowledge, name="acknowledge"),
    path("decision/", employee.decision, name="decision"),
    path("history/", employee.history, name="history"),
    path("receipts/<str:receipt_id>.json", employee.receipt_json, name="receipt_json"),
    path("receipts/<str:receipt_id>/", employee.receipt, name="receipt"),
]
