"""From a CTA click over HTTP to an SMS at the OVH test double, through the real broker (the ORM
broker on SQLite; Redis when REDIS_URL is set) and a real `qcluster` process."""

import json
import time
import uuid
from unittest import mock

import pytest
import requests
from django.db import connection
from django_q.conf import Conf

from alerts.outbox.models import Alert
from bench.processes import database_url, log_contains, product_env, qcluster_cmd, running
from tests.factories import BROWSER_UA, ProspectFactory
from tests.ovh_double import OvhDouble, ovh_settings

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cta_click_reaches_the_founders_phone_within_seconds(live_server, tmp_path):
    prospect = ProspectFactory(name="Camille Martin", company="Exemple Logistique")
    queue = f"arkwatch-e2e-{uuid.uuid4().hex[:8]}"  # a fresh queue: nothing left over from other runs
    with OvhDouble() as ovh:
        env = product_env(
            DATABASE_URL=database_url(connection.settings_dict),
            Q_CLUSTER_NAME=queue,
            ALERT_SMS_RECIPIENTS="+33199000001",
            **{k: str(v) for k, v in ovh_settings(ovh).items()},
        )
        log = tmp_path / "qcluster.log"
        with (
            running(qcluster_cmd(), env, log, ready=log_contains(log, "Q Cluster")),
            mock.patch.object(Conf, "SYNC", False),
            mock.patch.object(Conf, "PREFIX", queue),
            mock.patch.object(Conf, "CLUSTER_NAME", queue),
        ):
            body = {
                "visitor_id": "visitor-e2e-1",
                "page_view_id": "pv-e2e-0001",
                "page": "/audit",
                "ak": prospect.identity_token,
                "cta_id": "cta_reserver_audit",
            }
            started = time.monotonic()
            response = requests.post(
                f"{live_server.url}/api/track/cta",
                data=json.dumps(body),
                headers={"Content-Type": "text/plain", "User-Agent": BROWSER_UA},
                timeout=5,
            )
            assert response.status_code == 202
            while not ovh.jobs and time.monotonic() - started < 20:
                time.sleep(0.05)
            # How fast it arrives is measured in bench/latency.py; here: that it arrives, once.
            assert ovh.jobs, log.read_text(errors="replace")[-3000:]
            # While the cluster still runs: the worker marks the delivery and the alert sent.
            deadline = time.monotonic() + 10
            while Alert.objects.get().status != "sent" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert Alert.objects.get().status == "sent", log.read_text(errors="replace")[-3000:]
    assert len(ovh.jobs) == 1 and ovh.bad_signatures == 0
    assert "Camille Martin" in ovh.jobs[0]["message"] and ovh.jobs[0]["receivers"] == ["+33199000001"]
