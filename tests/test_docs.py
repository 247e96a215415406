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


PRODUCT = ("arkwatch", "core", "prospects", "tracking", "alerts", "backoffice")
FIGURES = "Figures that used to live in code comments"


def test_a_figure_the_code_points_to_is_in_benchmarks_under_the_section_named_with_a_command_that_exists():
    # Timings go stale in comments: the code keeps the reason and names the section of
    # docs/benchmarks.md that holds the figure, its command and its date.
    benchmarks = (ROOT / "docs" / "benchmarks.md").read_text()
    headings = [line.lstrip("#").strip() for line in benchmarks.splitlines() if line.startswith("#")]
    pointers = []
    for path in (path for package in PRODUCT for path in (ROOT / package).rglob("*.py")):
        text = re.sub(r"\s*\n\s*(?:#\s*)?", " ", path.read_text())  # comments and docstrings, unwrapped
        pointers += [(path.name, section) for section in re.findall(r'docs/benchmarks\.md, "([^"]+)"', text)]
    assert sum(section == FIGURES for _name, section in pointers) >= 20
    for name, section in pointers:
        assert any(heading.startswith(section) for heading in headings), (name, section)
    figures = benchmarks.split(f"## {FIGURES}", 1)[1].split("\n## ", 1)[0]
    for script in set(re.findall(r"bench/(\w+)\.py", figures)):
        assert (ROOT / "bench" / f"{script}.py").exists(), script
