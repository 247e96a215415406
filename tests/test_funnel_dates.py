"""Issue 29, point 11: a date on the funnel page that is not one, or out of range, gets a sentence and
the default period (the last 30 days), never a 500."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query, words",
    [
        ({"start": "2026-02-30"}, "n'est pas une date"),
        ({"end": "2026-13-01"}, "n'est pas une date"),
        ({"start": "demain", "end": "2026-01-31"}, "n'est pas une date"),
        ({"start": "0001-01-01"}, "Les dates vont du"),
        ({"end": "9999-12-31"}, "Les dates vont du"),
        ({"start": "0001-01-01", "end": "9999-12-31"}, "Les dates vont du"),
    ],
    ids=["30 February", "month 13", "a word", "year 1", "year 9999", "both ends"],
)
def test_a_date_that_is_not_one_or_out_of_range_gets_a_sentence_and_the_last_30_days(staff_client, query, words):
    response = staff_client.get(reverse("backoffice-funnel"), query)
    assert response.status_code == 200
    assert words in html.unescape(response.content.decode())
    today = timezone.localdate()
    assert (response.context["start"], response.context["end"]) == (today - timedelta(days=29), today)


def test_a_good_period_says_nothing_and_keeps_its_dates(staff_client):
    response = staff_client.get(reverse("backoffice-funnel"), {"start": "2026-01-31", "end": "2026-01-01"})
    assert response.status_code == 200 and 'class="errornote"' not in response.content.decode()
    assert [d.isoformat() for d in (response.context["start"], response.context["end"])] == [
        "2026-01-01",
        "2026-01-31",
    ]
