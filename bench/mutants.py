"""After `make mutants`: re-check what the run left alive, and say why each survivor is harmless.

    .venv/bin/python bench/mutants.py recheck [--mutants mutants] [--also [module:]tests/test_x.py …] [--stream 1]
    .venv/bin/python bench/mutants.py report [--mutants mutants] > docs/mutation-survivors.md

`--only 'alerts.outbox.quiet.*' …` (both): the mutants a run of a chosen set checked (`make mutants MUTANTS=…`);
mutmut makes every module's mutants, and leaves the others "not checked".

recheck: each mutant the run left alive (survived, no tests, timeout) that has something new to meet
    runs again in a fresh pytest process, against the tests that covered its function in the run
    (mutmut-stats.json) plus the `--also` files for its module (tests written since the run; the
    ones failing without a mutant are left out). Fresh, because mutmut forks its children after the
    modules are imported: a mutant inside a function called at import time (the field checks
    tracking/schemas.py builds) is never active in the run; those, and timeouts (a forked child can
    hang at exit after a test failed), are always re-checked. Verdicts go
    to <mutants>/recheck.jsonl; a name already there, or claimed by the other stream, is skipped, so
    two streams (`--stream 1`, `--stream 2`, each its own test database) can share the list.
report: the run's figures, the re-check's, and one row per mutant still alive with the class of
    reason it is harmless (RULES below); a survivor no rule explains is listed as "to look at".
Prints figures; asserts nothing.
"""

import argparse
import ast
import difflib
import fnmatch
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALIVE = {"survived", "no tests", "timeout"}
# Functions called at import time whose mutants only act in a fresh process, and the tests of what
# they build (the per-field checks of every endpoint).
VALIDATION = ["tests/test_validation_messages.py", "tests/test_tracking_api.py", "tests/test_email_tracking.py"]
IMPORT_TIME = {"tracking.schemas.x__matching": VALIDATION, "tracking.schemas.x_choice": VALIDATION}

# (mutant name pattern, changed-line pattern or "", class, why it is harmless). First match wins.
# Written for the survivors of the run of 2026-12-03 (docs/mutation-survivors.md); a new survivor that
# no rule explains is reported "to look at".
RULES: list[tuple[str, str, str, str]] = [
    # Speed only: the same alerts, from more rows, more queries or another order.
    # The window itself: dropped, None, or always skipped. Not any change in these functions: a filter
    # dropped from what a cycle reads (a cancelled booking, a bounce, a bot's click) texts wrongly.
    (
        r"alerts\.signals\.detection\.x_(signals_find|_since\w*)__",
        r"window_start.* / (?!.*window_start)|\(window_start\) (and False|or True)",
        "speed",
        "detection reads from further back than its window: the same alerts (evidence keys make it idempotent)",
    ),
    (
        r"alerts\.signals\.detection\.x_signals_find__",
        r"(received_at|booked_at)__lte=now.* / (?!.*(received_at|booked_at)__lte=now)",
        "speed",
        "an event received while the cycle runs is read by this cycle instead of the next one",
    ),
    (
        r"alerts\.signals\.detection\.x_signals_find__",
        r"prospect__isnull=False.* / (?!.*prospect__isnull)",
        "equivalent",
        "find_cta_signals skips a click without a prospect",
    ),
    (
        r"alerts\.signals\.detection\.x__chunks__|alerts\.signals\.dwell\.x_find_dwell_signals__",
        r"^(?!.* / .*range\(0, CHUNK\)).*(CHUNK|range\(|page_view_id__in)",
        "speed",
        "the batches a query reads page views in: the same page views, in more or fewer queries",
    ),
    (
        r"alerts\.outbox\.delivery\.x_deliveries_needing_relay__",
        r"sorted|key=",
        "speed",
        "the order the relay hands rows over in; every row is handed over",
    ),
    (
        r"alerts\.signals\.dwell\.x__first_seen__",
        "",
        "speed",
        "this process's memory of page views bypassed or not filled: the shared store and the stored events answer",
    ),
    (
        r"tracking\.matching\.x_new_events_attribute__",
        r"visitor_ids|prospect__isnull|\[:2\]",
        "speed",
        "attributes more rows than needed (the ones already right are set to the same prospect)",
    ),
    (
        r"tracking\.matching\.x.ProspectDirectory._may_know__",
        "",
        "speed",
        "a pre-filter ahead of the Public Suffix List: looser or the same, the match itself is decided after it",
    ),
    # Bookkeeping an operator reads, not the founder.
    (
        r"alerts\.signals\.dwell\.x_find_dwell_signals__",
        r"line:visible_seconds|first_seen|last_seen",
        "bookkeeping",
        "evidence kept in the alert's record for an operator; no page or SMS reads it",
    ),
    (
        r"",
        r"logger\.|task_name|group=|updated_at",
        "bookkeeping",
        "a log line, a django-q2 task name or group, or `updated_at` on a row re-read by status",
    ),
    (
        r"alerts\.outbox\.delivery\.x_fallback_deliveries_add__mutmut_7$",
        "",
        "bookkeeping",
        "only decides whether the 'no channel to fall back on' warning is logged",
    ),
    (
        r"alerts\.outbox\.delivery\.x_notice_schedule__",
        r"label=",
        "bookkeeping",
        "a channel row's label, shown on the delivery row in the admin only",
    ),
    (
        r"tracking\.matching\.x_new_events_attribute__",
        r"count",
        "bookkeeping",
        "the number of events attributed, which no caller reads",
    ),
    # Equivalent: no input the product gives makes a difference.
    (
        r"tracking\.tokens\.x_make_(pixel|link)_token__",
        r"compress",
        "equivalent",
        "token compression: only the token's length changes, and only when zlib shortens it",
    ),
    (
        r"tracking\.tokens\.x_read_token__",
        "",
        "equivalent",
        "a check on payloads we signed ourselves (always dicts with an int)",
    ),
    (
        r"tracking\.tokens\.x_token_expired__",
        "",
        "equivalent",
        "the last line is reached only by a token that is not expired",
    ),
    (
        r"tracking\.(tokens|matching)\.x__host_of__",
        "",
        "equivalent",
        "a host name that is never in the allow-list either way (lower-case, or an unparsable URL)",
    ),
    (
        r"tracking\.schemas\.x_aware_datetime__",
        r"2100|2101",
        "equivalent",
        "the year-2100 bound: such a date is refused first as more than 5 minutes ahead",
    ),
    (
        r"",
        r"\[:301\]|\[:201\]|\[:513\]|\[:2049\]",
        "equivalent",
        "a cut one character longer, on values never that long (validated shorter before, or cut again when stored)",
    ),
    (r"alerts\.outbox\.(actions|admission)\.x_alert_release__", r"budget=None", "equivalent", "`None` for `False`"),
    (
        r"alerts\.outbox\.gsm\.x_truncate_to_segments__",
        r"max\(segments, 2\)",
        "equivalent",
        "every caller has already cut the text to one part's 160 units",
    ),
    (r"alerts\.outbox\.gsm\.x_truncate_units__", r"units < 0", "equivalent", "0 units keep nothing either way"),
    (
        r"alerts\.outbox\.delivery\.x_reminder_deliveries_add__",
        r"ignore_conflicts",
        "equivalent",
        "the alert's claim and the de-duplicated recipients already make the rows unique",
    ),
    (
        r"alerts\.",
        r"quiet_until\(None\)|hour_of\(None\)|now=None",
        "equivalent",
        "`None` means now, which is what `now` is",
    ),
    (
        r"alerts\.signals\.dwell\.x__stored_first_seen__",
        "",
        "equivalent",
        "the event itself is stored before it is read back: the MIN is never NULL",
    ),
    (
        r"alerts\.signals\.dwell\.x_page_view_crossed_threshold__mutmut_1$",
        "",
        "equivalent",
        "a default every caller overrides",
    ),
    (
        r"alerts\.signals\.dwell\.x_find_dwell_signals__",
        r"received_at__lte",
        "equivalent",
        "an event received while the cycle runs counts in this cycle rather than the next: the same alert",
    ),
    (
        r"alerts\.outbox\.admission\.x__save_and_mark_hot__",
        r"update_fields=None",
        "equivalent",
        "saves every field of an alert written in this same transaction: the same row",
    ),
    (
        r"alerts\.signals\.dwell\.x_find_dwell_signals__",
        r'or "XXXX"',
        "equivalent",
        "the page is required by every event",
    ),
    (
        r"alerts\.outbox\.composer\.x_compose_alert_sms__",
        r'str = "XXXX"',
        "equivalent",
        "a default the product's one caller (alerts/outbox/admission.py) always overrides",
    ),
    (
        r"alerts\.signals\.detection\.x_find_cta_signals__",
        r" or c\.ak",
        "equivalent",
        "a click carries its page view's ak (the snippet sends it with each event): the machine check is "
        "asked about more page views and answers the same",
    ),
    (
        r"alerts\.signals\.detection\.x_find_cta_signals__",
        r"break",
        "equivalent",
        "its callers pass matched clicks only",
    ),
    (
        r"alerts\.signals\.detection\.x_find_reopen_signals__",
        r"message_id__in",
        "speed",
        "reads every send instead of this batch's: the same first send per message",
    ),
    (
        r"alerts\.signals\.detection\.x_with_identification__",
        r"line:methods\.get",
        "equivalent",
        "a visitor without a row is unverified whatever the default",
    ),
    (
        r"alerts\.cycle\.x_detection_cycle_run__",
        r"line:trigger",
        "bookkeeping",
        "what started a run, on the runs list an operator reads",
    ),
    (r"alerts\.cycle\.x_detection_cycle_run__", r"dry_run=None", "equivalent", "`None` for `False`"),
    (
        r"alerts\.outbox\.composer\.x_compose_alert_sms__",
        r"line:lead_short_url\(alert_id\) if alert_id",
        "equivalent",
        "the product composes for a stored alert only, which has an id (alerts/outbox/admission.py)",
    ),
    (
        r"alerts\.outbox\.composer\.x_compose_alert_sms__",
        r"line:overflow = segments - 1|if overflow <= 0:  #",
        "equivalent",
        "with an escaped character across two parts' boundary, which part gives up a character or two; "
        "the SMS still fits its parts, link last (tests/test_composer.py)",
    ),
    (r"", r"line:logger\.", "bookkeeping", "a log line"),
    (
        r"alerts\.outbox\.delivery\.x_deliveries_needing_relay__",
        r"line:sorted\(pairs",
        "speed",
        "the order the relay hands rows over in; every row is handed over",
    ),
    (
        r"alerts\.outbox\.delivery\.x_reminder_deliveries_add__",
        r"line:ignore_conflicts",
        "equivalent",
        "the alert's claim and the de-duplicated recipients already make the rows unique",
    ),
    (
        r"alerts\.outbox\.delivery\.x__deliver_all__",
        r"line:backend",
        "speed",
        "the SMS backend built once per batch or once per message: the same messages",
    ),
    (
        r"alerts\.outbox\.delivery\.x_alert_refresh_status__",
        r"line:exclude\(status=status\)",
        "speed",
        "writes the same status again",
    ),
    (r"alerts\.outbox\.delivery\.x_delivery_send__", r"line:select_related", "speed", "one query more per message"),
    (
        r"alerts\.outbox\.delivery\.x_delivery_send__",
        r"line:retry_at=retry_at",
        "speed",
        "a retry waits for the relay's one-minute sweep instead of its own backoff (at most a minute either way)",
    ),
    (
        r"alerts\.outbox\.composer\.x_compose_alert_sms__",
        r"line:floor = \{|keep - 3 >= floor",
        "cosmetic",
        "how short a shortened field may get before it is dropped instead, one unit either way; the SMS fits, "
        "the signal, the number and the link stay",
    ),
    (
        r"tracking\.matching\.x_visitor_events_attribute__",
        r"line:count",
        "bookkeeping",
        "the number of events attributed, which no caller reads",
    ),
    (
        r"tracking\.matching\.x_visitors_match__",
        r"line:ignore_conflicts",
        "postgresql",
        "two workers creating the same visitor at once: without it tests/test_concurrency.py fails on PostgreSQL",
    ),
    (
        r"tracking\.matching\.x_visitors_match__",
        r"line:return 0|linked = 0",
        "bookkeeping",
        "the number of visitors matched, shown in a detection run's counters only",
    ),
    (
        r"tracking\.matching\.x_visitors_match__",
        r"line:existing = |collect_hints\(ids, since=since\)|match_strength",
        "speed",
        "reads or compares more than needed; visitor_link's guard keeps the stronger match",
    ),
    (
        r"tracking\.matching\.x_visitor_link__",
        r"line:isinstance\(prospect, int\)",
        "equivalent",
        "Django takes a prospect or its id in the same lookup",
    ),
    (
        r"tracking\.matching\.x.ProspectDirectory.pointed_at__",
        r"line:self\.by_domain\.get\(domain",
        "speed",
        "looks up a domain the pre-filter already let through",
    ),
    # Only PostgreSQL can tell; the mutation run is SQLite, tests/test_concurrency.py covers it there.
    (
        r"alerts\.outbox\.admission\.x_alert_record_signal__",
        r"line:lock_for_transaction|advisory",
        "postgresql",
        "the per-network lock, only taken on PostgreSQL; a lock on no key fails tests/test_forgery.py there",
    ),
    # --- The features of issues 28-32: `make mutants-features` of 2026-12-07 (issue 33) ---------------
    # --- alerts.outbox.quiet -------------------------------------------------------------------------
    # Python's own local time (a naive datetime's timestamp()/astimezone(), astimezone(None),
    # fromtimestamp(x, None)) in place of `zone`: _instants 10, 11, 13, 16, 22, 24, 29, 31, 42, 44;
    # quiet_until 16, 21, 29, 39, 46, 61.
    (
        r"alerts\.outbox\.quiet\.x__instants__mutmut_(10|11|13|16|22|24|29|31|42|44)$",
        "",
        "equivalent",
        "Python's local time instead of TIME_ZONE's: Django sets the process's TZ to TIME_ZONE at start-up "
        "and the product never activates another zone, so both read the same clocks",
    ),
    (
        r"alerts\.outbox\.quiet\.x_quiet_until__mutmut_(16|21|29|39|46|61)$",
        "",
        "equivalent",
        "Python's local time instead of TIME_ZONE's: Django sets the process's TZ to TIME_ZONE at start-up "
        "and the product never activates another zone, so both read the same clocks",
    ),
    (
        r"alerts\.outbox\.quiet\.x_quiet_until__",
        r"astimezone\(UTC\) -> .*astimezone\(None\)",
        "equivalent",
        "the moment in the process's local zone instead of UTC: the same instant, and every later use compares "
        "instants or converts it to TIME_ZONE first",
    ),
    (
        r"alerts\.outbox\.quiet\.x__instants__mutmut_32$",
        r"fold=0\)",
        "equivalent",
        "fold=0 dropped: datetime.combine() makes a naive time with fold 0 already",
    ),
    (
        r"alerts\.outbox\.quiet\.x__instants__",
        r"\) >= naive: -> .*\) > naive:",
        "equivalent",
        "the bisection runs only for a wall time clocks skip: no instant reads it, so >= and > agree",
    ),
    (
        r"alerts\.outbox\.quiet\.x__is_quiet__",
        r"start < end else now > -> .*start <= end else",
        "equivalent",
        "start == end never reaches it: parse_quiet_hours refuses it",
    ),
    (
        r"alerts\.outbox\.quiet\.x_quiet_until__",
        r"moment < limit: -> while moment <= limit:",
        "equivalent",
        "only all seven days quiet reach the week's limit; then every moment is quiet and both return the limit",
    ),
    (
        r"alerts\.outbox\.quiet\.x_parse_quiet_hours__",
        r"rpartition",
        "equivalent",
        "settings.py accepts HH:MM-HH:MM only: one dash, split the same from either end",
    ),
    (
        r"alerts\.outbox\.quiet\.x_parse_quiet_days__",
        r"rindex",
        "equivalent",
        "each day appears once in DAYS",
    ),
    # --- alerts.outbox.reminders -----------------------------------------------------------------------
    (
        r"alerts\.outbox\.reminders\.x_reminders_send__mutmut_(3|7|77)$",
        "",
        "bookkeeping",
        "the count reminders_send returns: the relay task (alerts/tasks.py) ignores it; the reminders are the same",
    ),
    (
        r"alerts\.outbox\.reminders\.x_reminders_send__",
        r'"-detected_at"\) -> (\.order_by\("-detected_at"\)|"prospect_id", \))$',
        "speed",
        "the order texted alerts are read in: the leads are sorted again (prospect, newest told first) below",
    ),
    (
        r"alerts\.outbox\.reminders\.x_reminders_send__mutmut_23$",
        "",
        "equivalent",
        "reminder_deliveries_add claims uncalled alerts only, and a call marks every alert of the prospect that "
        "occurred before it: a called alert is never a lead's newest, the same alert is reminded",
    ),
    (
        r"alerts\.outbox\.reminders\.x_reminders_send__mutmut_24$",
        "",
        "equivalent",
        "an alert detected within the day and reminded was reminded within the day: its prospect is in "
        "reminded_lately, skipped either way",
    ),
    (
        r"alerts\.outbox\.reminders\.x__told_in_a_digest__mutmut_13$",
        "",
        "equivalent",
        "Min() ignores a NULL sent_at; a notice with none gets told_at NULL, which told_at__lte drops",
    ),
    (
        r"alerts\.outbox\.reminders\.x__told_in_a_digest__",
        r"is None and alert\.signal ! -> .*is None or alert\.signal",
        "equivalent",
        "a reminded digest lead's prospect is in reminded_lately (reminded after the digest, within the day); "
        "a called one is refused by reminder_deliveries_add and, the call marking every earlier alert, is "
        "never newer than an uncalled alert of its prospect",
    ),
    # --- alerts.outbox.notices -------------------------------------------------------------------------
    (
        r"alerts\.outbox\.notices\.x__lead_variants__mutmut_(8|10|12)$",
        "",
        "equivalent",
        "SIGNAL_SHORT's default: every Signal has a short name (Signal() refuses any other value)",
    ),
    (
        r"alerts\.outbox\.notices\.x_lead_rank__mutmut_(4|6|8)$",
        "",
        "equivalent",
        "SIGNAL_STRENGTH's default: every Signal has a strength (Signal() refuses any other value)",
    ),
    (
        r"alerts\.outbox\.notices\.x__with_names__",
        r'"what": "A"|"names": "B"',
        "equivalent",
        "the separator is measured between one-letter stand-ins: 'A' costs one GSM-7 unit as 'a' does",
    ),
    (
        r"alerts\.outbox\.notices\.x_(_notice_text_now|digest_alerts)__",
        r'order_by\("detected_at", "pk"\)[,:] -> .*order_by\("pk"\)|"detected_at", "pk"\)[,:] -> "detected_at", \)',
        "equivalent",
        "the order leads of equal rank keep: equal ranks need the same signal, identity and occurred_at to the "
        "microsecond; detected_at is auto_now_add, so detected order and pk order agree",
    ),
    (
        r"alerts\.outbox\.notices\.x_(_notice_text_now|digest_alerts)__",
        r"select_related\(None\)",
        "speed",
        "the prospects are read one query each instead of joined",
    ),
    (
        r"alerts\.outbox\.notices\.x_notice_text__",
        r"fields=None",
        "speed",
        "refresh_from_db reloads every field instead of the message alone: the same message",
    ),
    (
        r"alerts\.outbox\.notices\.x_digest_alerts__",
        r"rank\(alert\) > lead_rank\(best -> .*rank\(alert\) >= lead_rank",
        "equivalent",
        "two alerts of one prospect of equal rank (same signal and identity, same occurred_at to the "
        "microsecond) list the same words; no detector makes two such",
    ),
    # --- tracking.webhooks.meetings: booking tools' deliveries -> meetings -----------------------------
    (
        r"tracking\.webhooks\.meetings\.x_booking_events_record__",
        r"(stored|duplicates|unknown) \+= 1 -> \1 = 1$|^continue -> break\b",
        "equivalent",
        "a delivery holds one event (the Cal.com and Calendly parsers return at most one): each count is 0 or 1 "
        "either way, and no event follows the last",
    ),
    (
        r"tracking\.webhooks\.meetings\.x_booking_events_record__",
        r"line:if BookingDelivery\.objects\.filter\(key=event\.key\)\.exists\(\):",
        "speed",
        "a replayed delivery is caught by its key's unique constraint at insert (the savepoint undoes it) "
        "instead of by the lookup before: the same answer, counted a duplicate, nothing changed",
    ),
    (
        r"tracking\.webhooks\.meetings\.x_booking_events_record__|alerts\.outcomes\.callbacks\.x_callbacks_send__",
        r"select_related\(None\)",
        "speed",
        "the prospect read in one query more per row",
    ),
    (
        r"tracking\.webhooks\.meetings\.x_(booking_events_record|_apply)__",
        r"filter\(tool=tool, external_id=.* -> .*filter\(external_id=",
        "equivalent",
        "each tool's booking ids are its own (Calendly's are api.calendly.com addresses, Cal.com's its uids) "
        "and each endpoint takes only its own tool's signed deliveries: without the tool the lookup finds the "
        "same meeting",
    ),
    (
        r"tracking\.webhooks\.meetings\.x_booking_events_record__",
        r"create\(tool=tool, key=.* -> .*create\(key=|event=event\.event\[:60\]\) -> .*\[:200\], \)",
        "bookkeeping",
        "the delivery record's tool or event name: no page, SMS or count reads them (its key and its meeting do "
        "the work)",
    ),
    (
        r"tracking\.webhooks\.meetings\.x_booking_events_record__",
        r"event\.event\[:61\]",
        "equivalent",
        "a cut one character longer on the tool's event name, one of a few known trigger names far shorter",
    ),
    (
        r"tracking\.webhooks\.meetings\.x__apply__",
        r'else "XXXX"',
        "equivalent",
        'the status before a new meeting is only compared with "cancelled": any other word says the same',
    ),
    (
        r"tracking\.webhooks\.meetings\.x__apply__",
        r'_event\("meeting"\) -> .*_event\("(XXmeetingXX|MEETING)"\)',
        "bookkeeping",
        "the reason given to the detection run it starts, kept as the run's trigger on the runs list an "
        "operator reads; the run itself, and the SMS, are the same",
    ),
    (
        r"tracking\.webhooks\.meetings\.x__prospect_booked__",
        r"exclude\(pk=meeting\.pk\) -> .*exclude\(pk=None\)",
        "equivalent",
        "the meeting itself is among the candidates only with a remembered status: never when new (it remembers "
        "none yet and empty ones are excluded), and when moved under its own uid it already remembers one, so "
        "nothing is written",
    ),
    (
        r"tracking\.webhooks\.meetings\.x__prospect_booked__",
        r"line:meeting\.prospect_status_before = before",
        "equivalent",
        "the copy in hand: the row is written just before, and nothing reads the copy's field after",
    ),
    (
        r"tracking\.webhooks\.meetings\.x__prospect_unbooked__",
        r"exclude\(pk=meeting\.pk\) -> .*exclude\(pk=None\)",
        "equivalent",
        "the cancelled meeting is saved cancelled before: it is never among the upcoming ones",
    ),
    # --- alerts.outcomes.callbacks ----------------------------------------------------------------------
    (
        r"alerts\.outcomes\.callbacks\.x_callback_sms_add__",
        r"line:transaction\.set_rollback\(True\)",
        "bookkeeping",
        "the worker that lost the claim leaves its notice row behind instead of undoing it: a notice without a "
        "call or an SMS row, which no page, SMS or count reads (the SMS and the ledger go by the call's notice)",
    ),
    (
        r"alerts\.outcomes\.callbacks\.x_callbacks_send__",
        r"callback_notice__isnull=True, callback_at__lt.* -> .*\(callback_at__lt",
        "speed",
        "re-reads call-backs already texted: their claim (callback_sms_add's conditional UPDATE) fails and "
        "is undone, the same SMS",
    ),
    # --- tracking.privacy (erasure) ---------------------------------------------------------------
    (
        r"tracking\.privacy\.x__without_query__",
        r'split\("[?#]", (\)|2\))',
        "equivalent",
        "an unparsable address cut at its first '?' or '#' with the split's limit dropped or made 2: only the part "
        "before it is kept either way",
    ),
    (
        r"tracking\.privacy\.x__without_query__",
        r"(query|fragment)=None",
        "equivalent",
        "urlunsplit leaves out a None query or fragment as it does an empty one",
    ),
    (
        r"tracking\.privacy\.x__without_query__",
        r'-> .*"#" in url:',
        "equivalent",
        "an address with neither '?' nor '#' goes through urlsplit and urlunsplit, which give a browser's address "
        "back unchanged (only a hand-made one such as 'HTTP:/x' would come back normalised)",
    ),
    (
        r"tracking\.privacy\.x__(events_of|written)__",
        r'safe="[^"]*XX',
        "equivalent",
        "letters are never percent-encoded: marking X safe changes no encoded email",
    ),
    (
        r"tracking\.privacy\.x__written__",
        r'"%7e"',
        "equivalent",
        "%7e for %7E: erasure compares the written forms and the addresses in lower case",
    ),
    (
        r"tracking\.privacy\.x__anonymise_visitors__",
        r"batch_size=",
        "speed",
        "the visitors are updated in one statement instead of batches of 500: the same rows, the same values",
    ),
    (
        r"tracking\.privacy\.x_person_forget__",
        r"_deleted=None",
        "equivalent",
        "`None` for `False`: forget_prospect only tests it for truth",
    ),
    # --- alerts.outcomes.replies (SMS replies) ----------------------------------------------------
    (
        r"alerts\.outcomes\.replies\.x_reply_outcome__",
        r'"XXXX"',
        "equivalent",
        "an empty text and 'XXXX' both carry no code",
    ),
    (
        r"alerts\.outcomes\.replies\.x__e164__",
        r'"XX\+XX"',
        "equivalent",
        "phonenumbers reads a number from its '+': the letters before it are dropped (every 00… sender gives the same "
        "E.164 number)",
    ),
    (
        r"alerts\.outcomes\.replies\.x_reply_record__",
        r"provider_id\[:65\]|sender\[:33\]",
        "equivalent",
        "a cut one character longer on values never that long: OVH's reply ids are numbers, a sender an E.164 number "
        "of at most 16 characters",
    ),
    (
        r"alerts\.outcomes\.replies\.x_reply_record__",
        r"reply\.ignored or outcome",
        "equivalent",
        "an empty reason already means a code, a last SMS and its lead (_why_ignored): the other conditions add "
        "nothing",
    ),
    (
        r"alerts\.outcomes\.replies\.x_reply_record__",
        r"update_fields=None",
        "speed",
        "the reply created just before is saved whole instead of its four changed columns",
    ),
    (
        r"alerts\.outcomes\.replies\.x__last_sms_to__",
        r'related\("notice"\)$|rt__prospect", \)$',
        "speed",
        "the alert's prospect or the notice read by a query of its own instead of a join",
    ),
    (
        r"alerts\.outcomes\.replies\.x__last_sms_to__",
        r'"-sent_at", \)',
        "equivalent",
        "the tie-break by id: two SMS to one phone never share a sent_at to the microsecond (each is stamped with its "
        "own timezone.now() once sent)",
    ),
    (
        r"alerts\.outcomes\.replies\.x__last_sms_to__",
        r"Channel\.SMS, recipient=\w* -> recipient=",
        "equivalent",
        "a channel delivery's recipient is its channel's key (apprise:…), never a phone number",
    ),
    (
        r"alerts\.outcomes\.replies\.x__last_sms_to__",
        r"sent_at__isnull=False, sent_at__lte=before -> \w*, sent_at__lte=before",
        "equivalent",
        "sent_at__lte already leaves out the SMS never sent (NULL)",
    ),
    (
        r"alerts\.outcomes\.replies\.x__another_sms_before__",
        r"exclude\(pk=None\)",
        "equivalent",
        "asked only when the last SMS left after the reply: sent_at__lte=received_at already leaves it out",
    ),
    (
        r"alerts\.outcomes\.replies\.x__another_sms_before__",
        r"^channel=AlertDelivery\.Channel\.SMS, -> $",
        "equivalent",
        "a channel delivery's recipient is its channel's key (apprise:…), never the phone number asked about",
    ),
    (
        r"alerts\.outcomes\.replies\.x__why_ignored__",
        r"last\.sent_at or last\.sent_at <",
        "equivalent",
        "the last SMS always has a sent_at (_last_sms_to reads sent ones only)",
    ),
    (
        r"alerts\.outcomes\.replies\.x_sms_replies_read__",
        r"line:^logger\.",
        "bookkeeping",
        "the warning logged when OVH cannot be read or a reply not deleted there",
    ),
    # --- core.ratelimit (the counters' keyed hash) ------------------------------------------------
    (
        r"core\.ratelimit\.x__hashed_key__",
        r'rest = "k", key -> .*rest = ("XXkXX"|"K"|None)',
        "equivalent",
        "a key without ':' is never counted: every limit's key has its kind before ':' (c, n, login, login-user, "
        "login-device, hook)",
    ),
    (
        r"core\.ratelimit\.x__hashed_key__",
        r"\[:33\]",
        "bookkeeping",
        "the counters store's key holds 33 hex digits of the keyed hash instead of 32: still keyed, still one key per "
        "client; no page reads it",
    ),
    (
        r"core\.ratelimit\.x__derive_counters_key__",
        r'sha256\(b"(XXarkwatch|ARKWATCH)',
        "equivalent",
        "another fixed prefix before SECRET_KEY: the HMAC key is still derived from SECRET_KEY, and unknown without it",
    ),
    (
        r"core\.ratelimit\.x__windowed__",
        r"now / period",
        "equivalent",
        "int(now / period) is now // period for any positive time (a float's rounding aside, under a microsecond "
        "before a window ends)",
    ),
    (
        r"alerts\.outcomes\.ledger\.xǁLedgerǁas_dict__",
        r"\(self\.total\) or True",
        "equivalent",
        "ledger() always sets `total` (a row of all signals, even with none): the `else None` branch is never taken",
    ),
    (
        r"alerts\.outcomes\.ledger\.x_ledger__",
        r'lated\("call", "digest"\) -> .*lated\(("digest"|"call", )\)',
        "speed",
        "one relation fewer joined: `alert.call` / `alert.digest` are read with a query each, the same rows",
    ),
    (
        r"alerts\.outcomes\.ledger\.x_ledger__",
        r"output_field=BooleanField\(\)\)\) -> .*output_field=None\)",
        "equivalent",
        "the held condition is a Q, whose WHERE node is a BooleanField already: Django infers the same type",
    ),
    (
        r"alerts\.outcomes\.ledger\.x_ledger__",
        r"occurred_at > handled\[alert\. -> .*occurred_at >= handled",
        "equivalent",
        "only two signals of one call at the same microsecond differ, and then either is 'the newest'",
    ),
    (
        r"alerts\.outcomes\.ledger\.x_ledger__",
        r"(alert\.pk|call_id), False\) -> .*(alert\.pk|call_id), (None)?\)",
        "equivalent",
        "an undated meeting ('3' reply) is 'not held' as None as it is as False: only its truth is read",
    ),
    (
        r"alerts\.outcomes\.ledger\.x_ledger__",
        r"booked_alerts, now\)\)? -> .*booked_alerts, None\)",
        "equivalent",
        "_row takes `now` but never reads it",
    ),
    (
        r"alerts\.outcomes\.ledger\.x_ledger__",
        r"sms < sms_of_call\[al -> .*sms <= sms_of_call",
        "equivalent",
        "an SMS at the same time as the one kept: the same time is kept",
    ),
    (
        r"alerts\.outcomes\.ledger\.x__median_minutes__",
        r"v >= timedelta\(0\)\] -> .*v > timedelta\(0\)\]",
        "equivalent",
        "a call recorded the very microsecond its SMS left: the founder dials after reading the SMS",
    ),
    (
        r"alerts\.outcomes\.ledger\.x__traces__",
        r"meeting_id\] = call -> .*= None|booked_by\.get\(meeting\.pk\) or m -> .*booked_by\.get\(None\)",
        "equivalent",
        "a meeting booked on the phone has its call's called_at as booked_at (call_record): the latest call "
        "up to booked_at is that call anyway",
    ),
    (
        r"alerts\.outcomes\.ledger\.x__traces__",
        r"key=lambda c: c\.called_at, default= -> .*key=lambda c: None",
        "equivalent",
        "calls are read newest first (Call.Meta.ordering -called_at): the first of the window's calls is the latest",
    ),
    (
        r"alerts\.outcomes\.ledger\.x_wilson__",
        r"min\(1\.0, centre \+ ha -> .*min\(2\.0, centre \+ ha",
        "equivalent",
        "the upper bound never exceeds 1 but by a float error (1 + 2e-16 at k = n = 5) that the JSON's 3 "
        "decimals and the page's whole percent round away",
    ),
]


# mutmut 3's exit codes (mutmut.__main__.status_by_exit_code, which cannot be imported outside a
# project it is configured for).
STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    **{code: "killed" for code in (1, 3)},
    **{code: "no tests" for code in (5, 33)},
    **{code: "timeout" for code in (36, -24, 24, 152, 255)},
    **{code: "segfault" for code in (-11, -9)},
    0: "survived",
    2: "check was interrupted by user",
    None: "not checked",
    34: "skipped",
    35: "suspicious",
    37: "caught by type check",
}


def _status(code: int | None) -> str:
    return STATUS_BY_EXIT_CODE.get(code, "killed")


def run_verdicts(mutants: Path, only: list[str] | None = None) -> dict[str, str]:
    """Each mutant's verdict in the run; with `only` (mutant-name globs), the mutants they name."""
    verdicts = {}
    for meta in mutants.rglob("*.meta"):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if not only or any(fnmatch.fnmatchcase(name, glob) for glob in only):
                verdicts[name] = _status(code)
    return verdicts


def module_of(name: str) -> str:
    """ "alerts.outbox.quiet.x_quiet_until__mutmut_3" -> "alerts.outbox.quiet"."""
    return name.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[0]


def rechecked(mutants: Path) -> dict[str, str]:
    path = mutants / "recheck.jsonl"
    if not path.exists():
        return {}
    return {row["name"]: row["verdict"] for row in map(json.loads, path.read_text().splitlines())}


def _pytest(mutants: Path, mutant: str, stream: str, tests: list[str], *options: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MUTANT_UNDER_TEST": mutant, "MUTANTS_RECHECK_STREAM": stream}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--reuse-db", "-m", "not browser"]
    return subprocess.run([*args, *options, *tests], cwd=mutants, env=env, capture_output=True, text=True, timeout=600)


def failing_without_mutant(mutants: Path, stream: str, files: list[str]) -> list[str]:
    """Tests of `files` that fail on the unmutated code (newer tests of behaviour the run's code
    predates): left out of every re-check, or they would count as kills."""
    if not files:
        return []
    shown = _pytest(mutants, "none", stream, files, "-rf").stdout
    # "FAILED tests/x.py::test[an id with spaces] - AssertionError: …"
    return [line[len("FAILED ") :].split(" - ")[0] for line in shown.splitlines() if line.startswith("FAILED ")]


def _module_and_tests(entry: str) -> tuple[str, str]:
    """ "alerts.signals.dwell:tests/test_x.py::test_y" -> ("alerts.signals.dwell", "tests/test_x.py::test_y"); a bare
    file or test id applies to every module."""
    module, sep, tests = entry.partition(":")
    return (module, tests) if sep and "/" not in module else ("", entry)


def recheck(mutants: Path, also: list[str], stream: str, new_only: bool = False, only: list[str] | None = None) -> None:
    stats = json.loads((mutants / "mutmut-stats.json").read_text())["tests_by_mangled_function_name"]
    # "alerts.signals.dwell:tests/test_x.py": that file for that module's mutants only; a bare file for all.
    also_for = [_module_and_tests(entry) for entry in also]
    every_file = sorted({t for _, t in also_for} | {f for files in IMPORT_TIME.values() for f in files})
    cache = mutants / "recheck-left-out.json"  # the control run, once per mutants directory
    if cache.exists():
        left_out = json.loads(cache.read_text())
    else:
        left_out = failing_without_mutant(mutants, stream, every_file)
        cache.write_text(json.dumps(left_out))
    print(f"left out, failing without a mutant: {left_out}", flush=True)
    deselect = [option for test in left_out for option in ("--deselect", test)]
    done = rechecked(mutants)
    for name, verdict in sorted(run_verdicts(mutants, only).items()):
        if verdict not in ALIVE or name in done:
            continue
        function = name.rsplit("__mutmut_", 1)[0]
        files = sorted({f for module, f in also_for if name.startswith(module)} | set(IMPORT_TIME.get(function, [])))
        if not files and verdict != "timeout":
            continue  # nothing new to run it against: a fresh process would give the run's verdict again
        tests = [t for t in stats.get(function, []) if t.split("::")[0] not in files]
        if new_only and function not in IMPORT_TIME and verdict != "timeout":
            tests = []  # the run already met them; only the tests written since can change the verdict
        claims = mutants / "recheck-claims"
        claims.mkdir(exist_ok=True)
        try:  # the other stream may have it already
            os.close(os.open(claims / name, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        if not tests and not files:
            result = "no tests"
            seconds = 0.0
        else:
            start = time.monotonic()
            try:
                code = _pytest(mutants, name, stream, [*files, *tests], "-x", *deselect).returncode
                result = {0: "survived", 1: "killed"}.get(code, f"error (pytest exit {code})")
            except subprocess.TimeoutExpired:
                result = "timeout"
            seconds = round(time.monotonic() - start, 1)
        with open(mutants / "recheck.jsonl", "a") as out:
            out.write(json.dumps({"name": name, "verdict": result, "tests": len(tests), "seconds": seconds}) + "\n")
        print(name, result, flush=True)


@lru_cache(maxsize=64)
def _mutated_functions(path: Path) -> dict[str, list[str]]:
    """Every function of a mutated module (mutants/<module>.py), by name, as its lines."""
    source = path.read_text()
    lines = source.splitlines()
    return {
        node.name: lines[node.lineno - 1 : node.end_lineno]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "__mutmut_" in node.name
    }


def _changed_lines(mutants: Path, name: str) -> tuple[str, str]:
    """(the original lines, the mutant's lines), as `mutmut show` gives them, read from the mutated
    module itself (`mutmut show` costs a CPU-second per mutant: minutes for a report)."""
    module, _, function = name.rpartition(".")
    functions = _mutated_functions(mutants / (module.replace(".", "/") + ".py"))
    original = functions.get(function.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", [])[1:]
    mutant = functions.get(function, [])[1:]  # the def lines differ by name only
    diff = [line for line in difflib.unified_diff(original, mutant, lineterm="", n=0) if line[:1] in "+-"]
    lines = [line for line in diff if not line.startswith(("+++", "---"))]
    return (
        " ".join(line[1:].strip() for line in lines if line[0] == "-"),
        " ".join(line[1:].strip() for line in lines if line[0] == "+"),
    )


def _delta(before: str, after: str, context: int = 15) -> str:
    """What the mutant changed, with a little context: rules match on this, not on the whole line, so
    that `updated_at` elsewhere on a line does not make a changed status "bookkeeping"."""
    parts = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag != "equal":
            was, now = before[max(0, i1 - context) : i2 + context], after[max(0, j1 - context) : j2 + context]
            parts.append(f"{was} -> {now}")
    return " | ".join(parts)


def classify(name: str, delta: str, line: str = "") -> tuple[str, str]:
    """A change pattern "line:…" is matched on the whole original line, any other on the delta."""
    for name_pattern, change_pattern, kind, why in RULES:
        where, pattern = (line, change_pattern[5:]) if change_pattern.startswith("line:") else (delta, change_pattern)
        if re.search(name_pattern, name) and (not pattern or re.search(pattern, where)):
            return kind, why
    return "to look at", ""


def _figures(label: str, verdicts: dict[str, str], columns: list[str]) -> str:
    counts = Counter(verdicts.values())
    other = len(verdicts) - sum(counts[k] for k in columns)
    checked = len(verdicts) - counts["not checked"]
    share = f"{100 * counts['killed'] / checked:.1f} %" if checked else "-"
    return f"| {label} | " + " | ".join(str(counts[k]) for k in columns) + f" | {other} | {share} |"


TITLE = "# Mutants left alive by `make mutants`, and why each is harmless"


def report(
    mutants: Path, summary: bool = False, note: str = "", only: list[str] | None = None, title: str = TITLE
) -> None:
    run = run_verdicts(mutants, only)
    again = rechecked(mutants)
    final = {name: again.get(name, verdict) if verdict in ALIVE else verdict for name, verdict in run.items()}
    print(title + "\n")
    print(f"Generated by `bench/mutants.py report` ({len(run)} mutants).\n")
    if note:
        print(note + "\n")
    columns = ["killed", "survived", "no tests", "timeout", "not checked"]
    print("| | " + " | ".join(columns) + " | other | killed of those checked |")
    print("|---" * (len(columns) + 3) + "|")
    for label, verdicts in (("the run", run), ("after the fresh-process re-check", final)):
        print(_figures(label, verdicts, columns))
    modules = sorted({module_of(name) for name in run})
    if len(modules) > 1:
        print("\nPer module, the run then after the re-check:\n")
        print("| module, mutants | " + " | ".join(columns) + " | other | killed of those checked |")
        print("|---" * (len(columns) + 3) + "|")
        for module in modules:
            mine = [name for name in run if module_of(name) == module]
            print(_figures(f"`{module}`, {len(mine)}", {name: run[name] for name in mine}, columns))
            print(_figures("after", {name: final[name] for name in mine}, columns))
    if summary:
        return
    alive = sorted(name for name, verdict in final.items() if verdict in ALIVE)
    rows = []
    for name in alive:
        before, after = _changed_lines(mutants, name)
        change = f"{before} / {after}"
        kind, why = classify(name, _delta(before, after), before)
        if final[name] == "timeout":
            kind, why = "timeout", "the mutant hangs (the SMS would never leave): caught by the run's time limit"
        rows.append((kind, name, final[name], change, why))
    print()
    print(", ".join(f"{kind}: {n}" for kind, n in Counter(r[0] for r in rows).most_common()))
    print("\n| class | mutant | verdict | change | why harmless |\n|---|---|---|---|---|")
    for kind, name, verdict, change, why in sorted(rows):
        change = change.replace("|", "\\|")[:160]
        print(f"| {kind} | `{name}` | {verdict} | `{change}` | {why} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["recheck", "report"])
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants")
    parser.add_argument(
        "--also", nargs="*", default=[], help="[module:]test file, run for that module's mutants, or all (recheck)"
    )
    parser.add_argument("--stream", default="1", help="a test database of its own per stream (recheck)")
    parser.add_argument(
        "--new-only", action="store_true", help="only the --also tests, not the ones the run met again (recheck)"
    )
    parser.add_argument("--summary", action="store_true", help="the figures only, no row per survivor (report)")
    parser.add_argument("--note", default="", help="a paragraph under the title: which run, which commit (report)")
    parser.add_argument("--title", default=TITLE, help="the heading the report starts with (report)")
    parser.add_argument("--only", nargs="*", default=[], help="mutant-name globs: the set a run checked (both)")
    args = parser.parse_args()
    if not (args.mutants / "mutmut-stats.json").exists():
        sys.exit(f"No mutation run in {args.mutants}: run `make mutants` first.")
    if args.command == "recheck":
        recheck(args.mutants.resolve(), args.also, args.stream, args.new_only, args.only)
    else:
        report(args.mutants.resolve(), args.summary, args.note, args.only, args.title)


if __name__ == "__main__":
    main()
