"""The documentation a newcomer reads first stays true: every variable the settings read is named in the
README and .env.example, and the interface page names every public route and command."""

import ast
import re
from pathlib import Path

from django.core.management import get_commands
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent
ENV_READERS = {"bool", "int", "float", "list", "str", "db", "url", "json", "dict", "tuple", "path"}


def variables_read_by_settings() -> set[str]:
    """Names passed to env(...), env.int(...), env.db(...)… in arkwatch/settings.py, and ENV_FILE."""
    names = {"ENV_FILE"}
    for node in ast.walk(ast.parse((ROOT / "arkwatch" / "settings.py").read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and func.attr in ENV_READERS
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def named(text: str) -> set[str]:
    """Variable names written out in full in a text (a shorthand such as `_MAX_HOURS` names nothing)."""
    return set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", text))


def test_the_settings_read_some_variables():
    # The parser finds what it should (a refactor of settings.py must not make the next test vacuous).
    assert {
        "DEBUG",
        "DATABASE_URL",
        "CONN_MAX_AGE",
        "SECURE_HSTS_PRELOAD",
        "Q_LOG_LEVEL",
    } <= variables_read_by_settings()


def test_the_readme_names_every_variable_the_settings_read():
    missing = sorted(variables_read_by_settings() - named((ROOT / "README.md").read_text()))
    assert missing == []


def test_env_example_names_every_variable_the_settings_read():
    missing = sorted(variables_read_by_settings() - named((ROOT / ".env.example").read_text()))
    assert missing == []


def test_the_readme_documents_the_interface_inside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme
    assert "](docs/interface.md)" in readme
    for target in re.findall(r"\]\(((?:docs|examples)/[^)#]+)", readme):
        assert (ROOT / target).exists(), target


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
