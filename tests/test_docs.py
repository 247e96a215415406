"""The documentation a newcomer reads first stays true: the README links to pages that exist, and the
interface page names every public route and command (the settings: tests/test_configuration.py)."""

import re
from pathlib import Path

from django.core.management import get_commands
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_documents_the_interface_inside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme
    for page in ("interface", "configuration", "operations", "benchmarks", "architecture", "how-it-works"):
        assert f"](docs/{page}.md)" in readme
    assert "](CHANGELOG.md)" in readme
    for target in re.findall(r"\]\(((?:docs|examples)/[^)#]+|[A-Z]+\.md)", readme):
        assert (ROOT / target).exists(), target


def test_the_readme_stays_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 300


def public_routes() -> list[str]:
    routes = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                routes.append(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns)
    # The admin and back office are behind a login; the interface page is about what is public.
    return [route for route in routes if not route.startswith("admin/")]


def test_the_interface_page_names_every_public_route_and_command():
    page = (ROOT / "docs" / "interface.md").read_text()
    # <str:token> is written <token> in the page, as a reader types it.
    missing = [r for r in public_routes() if "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", r) not in page]
    assert missing == []
    ours = [
        name
        for name, app in get_commands().items()
        if app.split(".")[0] in {"core", "prospects", "tracking", "alerts", "backoffice", "arkwatch"}
    ]
    assert ours and [name for name in ours if f"`{name}" not in page] == []
