"""The lists ad blockers ship (EasyList, EasyPrivacy, uBlock Origin's filters and unbreak), loaded into
Brave's filter engine (the `adblock` package), from ../shared/data/filter-lists/ beside the repository
(dated snapshot: its README). Tests skip, saying why, only where that folder is absent."""

from functools import lru_cache
from pathlib import Path

import pytest

FILTER_LISTS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "filter-lists"
LIST_NAMES = ("easylist.txt", "easyprivacy.txt", "filters.txt", "unbreak.txt")

# Playwright's resource types as the engine names them (a fetch is an xmlhttprequest to the lists).
ENGINE_TYPES = {"fetch": "xmlhttprequest", "xhr": "xmlhttprequest", "eventsource": "other", "manifest": "other"}


@lru_cache(maxsize=1)
def filter_engine():
    missing = [name for name in LIST_NAMES if not (FILTER_LISTS / name).is_file()]
    if missing:
        pytest.skip(f"the ad blockers' lists are not beside the repository ({FILTER_LISTS}: {', '.join(missing)})")
    import adblock

    filters = adblock.FilterSet(debug=True)
    for name in LIST_NAMES:
        filters.add_filter_list((FILTER_LISTS / name).read_text(encoding="utf-8"))
    return adblock.Engine(filters)


def blocking_filter(url: str, source_url: str, request_type: str) -> str | None:
    """The filter that blocks this request made by a page at `source_url`, or None."""
    result = filter_engine().check_network_urls(url, source_url, ENGINE_TYPES.get(request_type, request_type))
    if result.matched and not result.exception:
        return result.filter or "?"
    return None
