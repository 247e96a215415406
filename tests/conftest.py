import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from alerts.outbox import delivery, sms
from alerts.signals.dwell import forget_page_views
from core import lmdb_counters, ratelimit
from tests.factories import BROWSER_UA

# A mutmut child's database, copied from the first child's fresh one (`_mutant_database_from`): set
# by django_db_modify_db_settings, read by django_db_keepdb and django_db_setup.
_mutant_database: dict[str, Path] = {}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """`make mutants` runs two mutants at once, each in a child process forked by mutmut: each child
    gets its own test database. Sharing the one file, a child deleting it at its start failed the
    other's tests ("disk I/O error"), which mutmut counted as mutants killed."""
    test = settings.DATABASES["default"].setdefault("TEST", {})
    name = test.get("NAME") or f"test_{settings.DATABASES['default']['NAME']}"
    # bench/mutants.py recheck names a stream instead: one database per stream, reused by --reuse-db.
    suffix = f"-mutant{os.environ.get('MUTANTS_RECHECK_STREAM') or os.getpid()}"
    # mutmut's own runs (stats, the clean run) share one process: the name is suffixed once. The LMDB
    # file beside each database stays (a process keeps it open); `make mutants` deletes mutants/.
    if os.environ.get("MUTANT_UNDER_TEST") and not name.endswith(suffix):
        test["NAME"] = f"{name}{suffix}"
        if connection.vendor == "sqlite" and not os.environ.get("MUTANTS_RECHECK_STREAM"):
            _mutant_database_from(Path(f"{name}-template"), Path(test["NAME"]))


def _mutant_database_from(template: Path, database: Path) -> None:
    """Migrating a fresh database cost each mutant about 5 s of CPU, most of a mutant's time (a run of
    2,000 mutants took hours on 2 cores): the first child keeps a copy of its freshly migrated
    database, and every later child starts from that copy (`migrate` then finds nothing to do)."""
    # A fresh dict: mutmut forks each child from a process whose own session already filled it.
    _mutant_database.clear()
    _mutant_database.update(template=template, database=database)
    if template.exists():
        shutil.copyfile(template, database)
        _mutant_database["copied"] = database


@pytest.fixture(scope="session")
def django_db_keepdb(request, django_db_modify_db_settings) -> bool:
    """pytest-django's own answer, or True for a mutmut child's database copied from the template
    (keep its tables: Django would otherwise delete the file and migrate again)."""
    if "copied" in _mutant_database:
        return True
    return bool(request.config.getvalue("reuse_db") and not request.config.getvalue("create_db"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """The first mutmut child to migrate saves its database, still empty, as the template."""
    template, database = _mutant_database.get("template"), _mutant_database.get("database")
    if template and database and "copied" not in _mutant_database and not template.exists():
        partial = template.with_name(f"{template.name}.{os.getpid()}")
        with sqlite3.connect(database) as source, sqlite3.connect(partial) as copy:
            source.backup(copy)
        os.replace(partial, template)  # whole or absent, whichever child finishes first
    yield
    if "copied" in _mutant_database:  # kept by keepdb: one file per mutant otherwise
        _mutant_database["copied"].unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _clean_state(monkeypatch):
    # Retries are tested by their outcome and their times (time_machine), never by sleeping.
    monkeypatch.setattr(delivery, "RETRY_BACKOFF_SECONDS", 0.0)
    sms.outbox.clear()
    sms.receipts.clear()
    cache.clear()
    forget_page_views()  # this process's memory of page views' first events
    if connection.vendor == "sqlite":
        lmdb_counters.clear()  # the rate-limit counters and claims, shared by every process
    # The counters' keys are cached per process; `make mutants` forks each mutant's tests from a process
    # that ran them all, whose cache would answer instead of a mutated keying.
    ratelimit.hashed_key.cache_clear()
    ratelimit._counters_key.cache_clear()
    yield
    sms.outbox.clear()
    sms.receipts.clear()


@pytest.fixture
def browser_headers():
    return {"HTTP_USER_AGENT": BROWSER_UA, "REMOTE_ADDR": "198.51.100.23"}


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (task enqueues) as if the request's transaction had committed."""

    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return run
