"""bench/consent_replay.py, smaller: pixel fetches, tracked-link clicks and tracker sessions for prospects
in each consent state under each policy. Where the policy or the prospect's answer forbids it, no
identifying row is stored and no SMS is sent; where it allows it, the product still works."""

import pytest

from bench.consent_replay import replay, table


@pytest.mark.django_db(transaction=True)  # detection's SMS leave when its transactions commit
def test_nothing_identifying_and_no_sms_wherever_consent_is_missing():
    cases = replay(prospects=2, pixels=6, clicks=4)
    assert len(cases) == 9
    for case in cases:
        assert case.lawful, table(cases)
        if not case.forbids("pixel"):
            assert case.pixel_rows == 6 and case.pixel_sms == 2, table(cases)
        else:
            assert case.pixel_counted == 6, table(cases)  # still counted, per message
        if not case.forbids("link"):
            assert case.link_aks == 4 and case.session_sms == 4, table(cases)
