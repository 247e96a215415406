"""Error pages speak French in the product's look: "/" (nothing there), a page a caller may not open,
a server error."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from backoffice.roles import CALLER_GROUP

pytestmark = pytest.mark.django_db


def test_an_unknown_address_gets_a_french_404_with_a_way_back(client):
    response = client.get("/")
    content = response.content.decode()
    assert response.status_code == 404
    assert "Page introuvable" in content and "Not Found" not in content
    assert reverse("admin:index") in content and "admin/css/base.css" in content


def test_a_page_a_caller_may_not_open_gets_a_french_403(client, django_user_model):
    caller = django_user_model.objects.create_user("caller", password="pw-for-tests-only", is_staff=True)
    caller.groups.add(Group.objects.get(name=CALLER_GROUP))
    client.force_login(caller)
    response = client.get(reverse("admin:alerts_call_add"))
    content = response.content.decode()
    assert response.status_code == 403
    assert "Action non autorisée" in content and "Forbidden" not in content
    assert "fiche" in content or "prospects chauds" in content


def test_a_server_error_gets_a_french_500(django_user_model, monkeypatch):
    from backoffice import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "funnel", broken)
    founder = django_user_model.objects.create_superuser("founder", "f@example.com", "pw-for-tests-only")
    client = Client(raise_request_exception=False)
    client.force_login(founder)
    response = client.get(reverse("backoffice-funnel"))
    assert response.status_code == 500
    assert "Une erreur est survenue" in response.content.decode()


def test_under_make_run_too_a_missing_page_is_the_french_404_not_the_debug_page(client, settings):
    """`make run` is DEBUG=true: Django would show its English page listing every URL of the product."""
    settings.DEBUG = True
    response = client.get("/nothing-here/")
    content = response.content.decode()
    assert response.status_code == 404
    assert "Page introuvable" in content
    assert "Page not found at" not in content and "URLconf" not in content and "api/track" not in content
    # The API's own 404s (JSON sentences) stay as they are.
    settings.TRACKING_API_KEY = "k" * 32
    api = client.post(
        "/api/track/email",
        data={"email": "nobody@nowhere.example", "message_id": "m1", "event": "sent"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer " + "k" * 32,
    )
    assert api.status_code == 404 and "error" in api.json()
