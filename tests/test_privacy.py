"""What we promise to forget is forgotten (issue 18, point 7, docs/privacy.md): no raw client address in
any store after traffic; a deleted or forgotten prospect leaves no email and no `ak` anywhere, only
anonymous counts; purge_events takes the visitors whose events are gone."""

import io
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import lmdb
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core import lmdb_counters
from core.models import SharedCounter
from prospects.models import Prospect
from prospects.services import prospect_rotate_identity_token
from tests.factories import (
    BROWSER_UA,
    CtaClickFactory,
    EmailEventFactory,
    ProspectFactory,
    VisitEventFactory,
    VisitorFactory,
)
from tracking import privacy
from tracking.matching import visitors_match
from tracking.models import CtaClick, EmailEvent, Meeting, VisitEvent, Visitor
from tracking.privacy import person_forget, prospect_forget
from tracking.replies.models import InboundReply, ReplyKind, ReplyMatch, ReplySource
from tracking.tokens import email_links_for

pytestmark = pytest.mark.django_db

# Every client address the traffic below uses, as it would appear if stored.
RAW_ADDRESSES = ("198.51.100.23", "203.0.113.77", "2001:db8:1:2::5", "192.0.2.44")


def every_database_value() -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every cell of every table of the database."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            description = connection.introspection.get_table_description(cursor, table)
            columns = [column.name for column in description]
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = value.decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                    found.append((table, column, text))
    return found


def every_counter() -> list[str]:
    """Keys and values of the counters store (the LMDB file on SQLite, the UNLOGGED table otherwise)."""
    if connection.vendor != "sqlite":
        return [f"{key} {value}" for key, value in SharedCounter.objects.values_list("key", "value")]
    if not lmdb_counters.counters_path().exists():
        return []
    with lmdb.open(str(lmdb_counters.counters_path()), readonly=True, lock=False) as env, env.begin() as txn:
        return [(key + b" " + value).decode("latin-1") for key, value in txn.cursor()]


def holding(needles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    cells = every_database_value() + [("counters store", "key", text) for text in every_counter()]
    return [cell for cell in cells if any(needle in cell[2] for needle in needles)]


def post(client, path: str, body: dict, **extra):
    return client.post(path, data=json.dumps(body), content_type="text/plain", HTTP_USER_AGENT=BROWSER_UA, **extra)


@override_settings(TRACKING_TRUSTED_PROXIES=["10.0.0.1"], BREVO_WEBHOOK_TOKEN="brevo-token-for-tests-only")
def test_no_store_holds_a_raw_client_address_after_traffic(client):
    """Every public endpoint and the admin login, from IPv4 and IPv6 clients and through the trusted
    proxy; then every column of every table and the counters store are searched for the addresses."""
    prospect = ProspectFactory(email="cto@acme-corp.example")
    links = email_links_for(prospect, message_id="m1", url="https://landing.example.com/audit")
    clients = [
        {"REMOTE_ADDR": "198.51.100.23"},
        {"REMOTE_ADDR": "2001:db8:1:2::5"},
        {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.77"},
        {"REMOTE_ADDR": "192.0.2.44"},
    ]
    for n, address in enumerate(clients):
        visitor = {"visitor_id": f"reader-{n}", "page_view_id": f"pageview-{n}", "page": "/audit"}
        assert (
            post(
                client, "/api/track/visit", {**visitor, "event": "pageview", "ak": prospect.identity_token}, **address
            ).status_code
            == 202
        )
        assert post(client, "/api/track/cta", {**visitor, "cta_id": "cta_reserver_audit"}, **address).status_code == 202
        post(
            client,
            "/api/track/identify",
            {"visitor_id": visitor["visitor_id"], "email": f"x{n}@acme-corp.example"},
            **address,
        )
        post(client, "/api/track/visit", {"visitor_id": "!"}, **address)  # refused: counted all the same
        client.get(links.pixel_url.removeprefix("https://track.example.com"), HTTP_USER_AGENT=BROWSER_UA, **address)
        client.get(links.link_url.removeprefix("https://track.example.com"), HTTP_USER_AGENT=BROWSER_UA, **address)
        post(client, "/api/webhooks/brevo?token=guess", {"event": "delivered"}, **address)
        client.post(reverse("admin:login"), {"username": "boss", "password": "guess"}, **address)
    visitors_match([f"reader-{n}" for n in range(len(clients))])
    assert VisitEvent.objects.count() == 4 and EmailEvent.objects.exists() and every_counter()
    assert holding(RAW_ADDRESSES) == []
    # What is kept instead: the network, truncated (/24, /48).
    assert VisitEvent.objects.filter(client_network="198.51.100.0").exists()


def test_deleting_a_prospect_in_the_admin_forgets_its_email_and_ak_keeping_anonymous_counts(client, staff_client):
    prospect = ProspectFactory(email="cto@acme-corp.example")
    old_ak = prospect.identity_token
    prospect_rotate_identity_token(prospect=prospect)
    prospect.refresh_from_db()
    needles = ("cto@acme-corp.example", "cto%40acme-corp.example", old_ak, prospect.identity_token)
    page = f"https://landing.example.com/audit?ak={prospect.identity_token}&email=cto%40acme-corp.example"
    body = {"visitor_id": "reader-1", "page_view_id": "pageview-1", "page": page, "ak": prospect.identity_token}
    post(client, "/api/track/visit", {**body, "event": "pageview"})
    post(client, "/api/track/cta", {**body, "cta_id": "cta_reserver_audit", "email": "cto@acme-corp.example"})
    post(client, "/api/track/visit", {"visitor_id": "forwarded", "page": "/audit", "ak": old_ak})
    post(client, "/api/track/identify", {"visitor_id": "reader-2", "email": "cto@acme-corp.example"})
    visitors_match(["reader-1", "reader-2", "forwarded"])
    EmailEventFactory(prospect=prospect)
    assert holding(needles)

    response = staff_client.post(reverse("admin:prospects_prospect_delete", args=[prospect.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert holding(needles) == []
    # The counts stay: three page events and a click, anonymous.
    assert (VisitEvent.objects.count(), CtaClick.objects.count()) == (2, 1)
    assert VisitEvent.objects.get(visitor_id="reader-1").page == "https://landing.example.com/audit"
    assert not Visitor.objects.exclude(prospect=None).exists()


def test_forget_prospect_answers_in_french_and_forgets(capsys):
    prospect = ProspectFactory(email="cto@acme-corp.example")
    VisitEventFactory(prospect=prospect, ak=prospect.identity_token, email="cto@acme-corp.example")
    CtaClickFactory(ak=prospect.identity_token)
    EmailEventFactory(prospect=prospect)
    out = io.StringIO()
    call_command("forget_prospect", "CTO@acme-corp.example", stdout=out)
    assert out.getvalue().strip() == (
        "Oublié : le prospect cto@acme-corp.example est supprimé avec ses événements email, alertes, appels "
        "et rendez-vous ; 2 événements de visite ou de clic anonymisés, 0 visiteur anonymisé."
    )
    assert holding(("cto@acme-corp.example", prospect.identity_token)) == []
    assert (VisitEvent.objects.count(), CtaClick.objects.count(), EmailEvent.objects.count()) == (1, 1, 0)


def test_forget_prospect_also_forgets_someone_who_is_not_a_prospect(client):
    post(client, "/api/track/identify", {"visitor_id": "reader-1", "email": "jane@example.org"})
    VisitEventFactory(visitor_id="reader-1", email="jane@example.org")
    out = io.StringIO()
    call_command("forget_prospect", "jane@example.org", stdout=out)
    assert "Aucun prospect n'a l'adresse jane@example.org" in out.getvalue()
    assert holding(("jane@example.org",)) == []


def test_forget_prospect_refuses_what_is_not_an_email():
    with pytest.raises(Exception, match="n'est pas une adresse email"):
        call_command("forget_prospect", "not an email", stdout=io.StringIO())


def test_purge_events_removes_visitors_with_no_remaining_events():
    old = timezone.now() - timedelta(days=40)
    VisitEventFactory(visitor_id="gone", received_at=old)
    VisitEventFactory(visitor_id="back", received_at=old)
    VisitEventFactory(visitor_id="back")
    visitors_match(["gone", "back"])
    Visitor.objects.update(first_seen_at=old)
    Visitor.objects.create(visitor_id="just-identified", email="new@example.org")  # seen today, no event yet
    call_command("purge_events", "--older-than", "30", "--dry-run", stdout=io.StringIO())
    assert Visitor.objects.count() == 3
    call_command("purge_events", "--older-than", "30", stdout=io.StringIO())
    assert sorted(Visitor.objects.values_list("visitor_id", flat=True)) == ["back", "just-identified"]


def test_forgetting_a_visitor_who_clicked_opened_and_identified_leaves_their_email_in_no_table(client):
    """Someone who is no prospect: a colleague opened a forwarded link (the email in its address),
    clicked the CTA giving the email, identified, replied in the prospect's thread and booked with the
    prospect's link. After forget_prospect on that address, no column of any table keeps it — nor the
    prospect's own rows, which stay (the prospect is not the person forgotten)."""
    prospect = ProspectFactory(email="cto@acme-corp.example")
    colleague = "jane.doe@acme-corp.example"
    needles = (colleague, "jane.doe%40acme-corp.example")
    page = "https://landing.example.com/audit?email=jane.doe%40acme-corp.example"
    body = {"visitor_id": "colleague-1", "page_view_id": "pageview-c1", "page": page}
    assert post(client, "/api/track/visit", {**body, "event": "pageview"}).status_code < 300
    assert (
        post(client, "/api/track/cta", {**body, "cta_id": "cta_reserver_audit", "email": colleague}).status_code < 300
    )
    assert post(client, "/api/track/identify", {"visitor_id": "colleague-1", "email": colleague}).status_code < 300
    visitors_match(["colleague-1"])
    now = timezone.now()
    InboundReply.objects.create(
        prospect=prospect,
        key="mid:<reply-from-jane@acme-corp.example>",
        source=ReplySource.IMAP,
        kind=ReplyKind.PERSON,
        sorted_kind=ReplyKind.PERSON,
        sender=colleague,
        match_method=ReplyMatch.THREAD,
        identification="verified",
        received_at=now,
    )
    Meeting.objects.create(
        prospect=prospect,
        tool="calcom",
        external_id="bk-jane",
        starts_at=now + timedelta(days=2),
        invitee_email=colleague,
        match_method="ak",
        booked_at=now,
    )
    # Every model with an email or ak field holds it before.
    assert {table for table, _column, _value in holding(needles)} >= {
        Visitor._meta.db_table,
        VisitEvent._meta.db_table,
        CtaClick._meta.db_table,
        InboundReply._meta.db_table,
        Meeting._meta.db_table,
    }
    call_command("forget_prospect", colleague, stdout=io.StringIO())
    assert [(table, column) for table, column, _value in holding(needles)] == []
    # The prospect, its reply and its meeting stay; the counts too.
    assert Prospect.objects.filter(email="cto@acme-corp.example").exists()
    assert (InboundReply.objects.count(), Meeting.objects.count()) == (1, 1)
    assert (VisitEvent.objects.count(), CtaClick.objects.count()) == (1, 1)


# --- What survived the mutation run of issue 33 (docs/mutation-survivors.md) --------------------------


def test_forgetting_a_prospect_reaches_the_rows_not_linked_to_it_and_only_them():
    """Besides the prospect's own rows: its page view whose referrer is its personal link (the event's
    ak empty), a click from another browser that typed its email, a browser that gave its email and was
    never matched, browsers unlinked since that kept what matched them. A stranger who gave their own
    email keeps it. What was cleared reads empty, not some placeholder."""
    prospect = ProspectFactory(email="cto@acme-corp.example")
    token = prospect.identity_token
    needles = ("cto@acme-corp.example", "cto%40acme-corp.example", token)
    VisitEventFactory(visitor_id="linked", prospect=prospect, referrer=f"https://landing.example.com/?ak={token}")
    CtaClickFactory(visitor_id="other-browser", email="cto@acme-corp.example", ak="")
    VisitorFactory(visitor_id="typed-it", email="cto@acme-corp.example")
    VisitorFactory(visitor_id="unlinked-by-email", match_method="email", match_evidence={"email": prospect.email})
    VisitorFactory(visitor_id="unlinked-by-ak", match_method="ak", match_evidence={"ak": token})
    VisitorFactory(visitor_id="stranger", email="someone@else.example")
    assert holding(needles)
    prospect_forget(prospect=prospect)
    assert holding(needles) == []
    assert Visitor.objects.get(visitor_id="stranger").email == "someone@else.example"
    assert set(Visitor.objects.exclude(visitor_id="stranger").values_list("email", "match_method")) == {("", "")}
    click = CtaClick.objects.get()
    assert (click.email, click.ak) == ("", "")


def test_forgetting_an_old_address_clears_the_browser_it_matched(staff_client):
    """The prospect's address was corrected since; an erasure request for the old one reaches the
    browser matched by it, and the meeting and the reply of a colleague who used it — emptied."""
    prospect = ProspectFactory(email="new@acme-corp.example")
    VisitorFactory(visitor_id="old-match", prospect=prospect, match_evidence={"email": "old@acme-corp.example"})
    meeting = Meeting.objects.create(
        prospect=prospect,
        tool="calcom",
        external_id="bk-old",
        starts_at=timezone.now(),
        invitee_email="old@acme-corp.example",
        match_method="ak",
        booked_at=timezone.now(),
    )
    reply = InboundReply.objects.create(
        prospect=prospect,
        key="mid:<reply-1@mail.example>",
        source=ReplySource.IMAP,
        kind=ReplyKind.PERSON,
        sorted_kind=ReplyKind.PERSON,
        sender="old@acme-corp.example",
        match_method=ReplyMatch.THREAD,
        identification="verified",
        received_at=timezone.now(),
    )
    call_command("forget_prospect", "old@acme-corp.example", stdout=io.StringIO())
    assert holding(("old@acme-corp.example", "old%40acme-corp.example")) == []
    meeting.refresh_from_db()
    reply.refresh_from_db()
    assert (meeting.invitee_email, reply.sender) == ("", "")


@pytest.mark.parametrize(
    ("page", "kept"),
    [
        # An address the URL parser refuses: cut at the first "?" and the first "#".
        ("http://[landing/audit?email=jane%40acme.example?x=1#top#y", "http://[landing/audit"),
        ("http://[landing/audit#email=jane%40acme.example", "http://[landing/audit"),
        ("http://[landing/audit#email=jane%40acme.example#top", "http://[landing/audit"),
        ("https://landing.example.com/audit#email=jane%40acme.example", "https://landing.example.com/audit"),
        ("https://landing.example.com/audit?email=jane%40acme.example#top", "https://landing.example.com/audit"),
    ],
)
def test_a_forgotten_page_address_loses_its_query_and_fragment_whatever_its_shape(page, kept):
    VisitEventFactory(visitor_id="jane", page=page, email="jane@acme.example")
    person_forget(email="jane@acme.example")
    assert VisitEvent.objects.get().page == kept


def test_forgetting_someone_who_is_no_prospect_leaves_the_other_anonymous_events_as_they_were():
    """Only the rows carrying the person's email change: another anonymous reader's click keeps its
    email, `ak` and page address, and the command counts the person's event alone."""
    VisitEventFactory(visitor_id="jane", email="jane@acme.example")
    page = "https://landing.example.com/audit?utm_source=newsletter"
    other = CtaClickFactory(visitor_id="someone", email="someone@else.example", ak="ak-of-someone", page=page)
    out = io.StringIO()
    call_command("forget_prospect", "jane@acme.example", stdout=out)
    assert "; 1 événement de visite ou de clic anonymisé, 0 visiteur anonymisé." in out.getvalue()
    other.refresh_from_db()
    assert (other.email, other.ak, other.page) == ("someone@else.example", "ak-of-someone", page)


def test_forget_prospect_counts_every_event_it_anonymised(monkeypatch):
    """In batches (here of two): the command says three, not the last batch's one."""
    monkeypatch.setattr(privacy, "BATCH", 2)
    for n in range(3):
        VisitEventFactory(visitor_id=f"jane-{n}", email="jane@acme.example")
    out = io.StringIO()
    call_command("forget_prospect", "jane@acme.example", stdout=out)
    assert "3 événements de visite ou de clic anonymisés" in out.getvalue()


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail the block, rather than hang the suite, when it runs longer than `seconds`."""

    def stop(_signum, _frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_an_email_in_an_address_path_is_forgotten_and_the_erasure_ends():
    """An address may carry the email in its path, not its query: a page made per person, a webmail's
    referrer. Taking the query off left such a row matching, and erasure read it again for ever (the
    command, and the admin's delete, never ended). The address keeps its site only; the others their
    path."""
    VisitEventFactory(
        visitor_id="jane",
        page="https://landing.example.com/pour/jane@acme.example/audit?utm_source=mail",
        referrer="https://webmail.example.net/u/jane%40acme.example/inbox",
    )
    VisitEventFactory(visitor_id="jane", page="https://landing.example.com/audit?email=jane%40acme.example")
    out = io.StringIO()
    with within(20):
        call_command("forget_prospect", "jane@acme.example", stdout=out)
    assert "2 événements de visite ou de clic anonymisés" in out.getvalue()
    assert holding(("jane@acme.example", "jane%40acme.example")) == []
    assert set(VisitEvent.objects.values_list("page", "referrer")) == {
        ("https://landing.example.com", "https://webmail.example.net"),
        ("https://landing.example.com/audit", ""),
    }


def test_an_address_whose_site_carries_the_email_is_emptied_whole():
    """When even the site carries the email (a webmail's `https://jane@…` address, or one no parser can
    read), keeping the site would keep the email: the address goes whole, whatever its case."""
    VisitEventFactory(
        visitor_id="jane", page="https://landing.example.com/audit", referrer="https://JANE@Acme.example/inbox"
    )
    VisitEventFactory(visitor_id="jane", page="http://[jane@acme.example/pour-vous", referrer="")
    call_command("forget_prospect", "jane@acme.example", stdout=io.StringIO())
    assert holding(("jane@acme.example", "jane%40acme.example")) == []
    assert set(VisitEvent.objects.values_list("page", "referrer")) == {
        ("https://landing.example.com/audit", ""),
        ("", ""),
    }


@pytest.mark.parametrize(
    ("email", "query"),
    [
        ("jane/doe@acme.example", "email=jane%2Fdoe%40acme.example"),  # percent-encoded whole
        ("jane/doe~x!y@acme.example", "email=jane%2Fdoe~x%21y%40acme.example"),  # whole, as RFC 3986 (~ kept)
        ("o'brien@acme.example", "email=o%27brien@acme.example"),  # typed in the link: the browser encodes '
        ("jane!doe@acme.example", "email=jane!doe%40acme.example"),  # encodeURIComponent leaves ! ' ( ) * ~
        ("jane*doe~x@acme.example", "email=jane*doe%7Ex%40acme.example"),  # a form, URLSearchParams
    ],
)
def test_an_email_carried_only_by_a_page_address_is_found_however_the_link_wrote_it(email, query):
    """A forwarded link carries the email in its query alone, written as the email tool and the browser
    wrote it: erasure finds the event (the email field empty) and the query goes."""
    VisitEventFactory(visitor_id="forwarded", page=f"https://landing.example.com/audit?{query}")
    out = io.StringIO()
    call_command("forget_prospect", email, stdout=out)
    assert "1 événement de visite ou de clic anonymisé" in out.getvalue()
    assert VisitEvent.objects.get().page == "https://landing.example.com/audit"
