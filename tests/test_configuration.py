"""docs/configuration.md is the one page of settings, and it is exact: every environment variable the
code reads (settings, commands, bin/ scripts, the Makefile) is listed there, and every variable listed
there is read somewhere. `.env.example` shows only a few, all of them real."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("core", "prospects", "tracking", "alerts", "backoffice", "arkwatch")
ENV_READERS = {"bool", "int", "float", "list", "str", "db", "url", "json", "dict", "tuple", "path"}
# ${NAME:-default}, ${NAME-default}, ${NAME:=default}, ${NAME}: a variable a shell script reads.
SHELL_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::?[-=][^}]*)?\}")
# NAME ?= value: a Makefile variable the environment may set.
MAKE_READ = re.compile(r"^([A-Z][A-Z0-9_]*)\s*\?=", re.MULTILINE)
LISTED = re.compile(r"^\| `([A-Z][A-Z0-9_]*)`", re.MULTILINE)


def _string_arg(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def _is_os_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name)


def variables_in_python(source: str) -> set[str]:
    """Names read through django-environ (`env("X")`, `env.int("X")`…) or os (`os.environ.get("X")`,
    `os.environ["X"]`, `os.getenv("X")`); `os.environ.setdefault` writes, it does not read."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func, name = node.func, _string_arg(node)
            if name is None:
                continue
            is_env = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and func.attr in ENV_READERS
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
            )
            is_os = isinstance(func, ast.Attribute) and (
                (func.attr == "get" and _is_os_environ(func.value)) or func.attr == "getenv"
            )
            if is_env or is_os:
                names.add(name)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_os_environ(node.value):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                names.add(node.slice.value)
    return names


def variables_read_in_code() -> set[str]:
    names: set[str] = set()
    for app in PRODUCT:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts and path.name != "settings_test.py":
                names |= variables_in_python(path.read_text())
    for script in (ROOT / "bin").iterdir():
        text = script.read_text()
        names |= variables_in_python(text) if script.suffix == ".py" else set(SHELL_READ.findall(text))
    names |= set(MAKE_READ.findall((ROOT / "Makefile").read_text()))
    return names


def listed(text: str) -> set[str]:
    """Variables given a row of their own in a table (`| \\`NAME\\` | …`)."""
    return set(LISTED.findall(text))


def configuration_page() -> str:
    return (ROOT / "docs" / "configuration.md").read_text()


def test_the_scanner_finds_a_variable_however_it_is_read():
    # A planted variable in each form is found: the two tests below cannot pass by finding nothing.
    source = (
        "A = env('PLANTED_A')\nB = env.int('PLANTED_B', default=1)\nimport os\n"
        "C = os.environ.get('PLANTED_C')\nD = os.environ['PLANTED_D']\nE = os.getenv('PLANTED_E')\n"
        "os.environ.setdefault('NOT_READ', '1')\n"
    )
    assert variables_in_python(source) == {"PLANTED_A", "PLANTED_B", "PLANTED_C", "PLANTED_D", "PLANTED_E"}
    assert SHELL_READ.findall('PORT="${PORT:-8000}" "${CHILD_GROUPS[@]}" ${1:-4} ${PLANTED}') == ["PORT", "PLANTED"]
    assert {"DEBUG", "DATABASE_URL", "ENV_FILE", "ADMIN_PASSWORD", "WEB_WORKERS", "PYTHON"} <= variables_read_in_code()


def test_every_variable_read_in_the_code_is_on_the_configuration_page():
    missing = sorted(variables_read_in_code() - listed(configuration_page()))
    assert missing == [], f"add these to docs/configuration.md: {missing}"


def test_every_variable_on_the_configuration_page_is_read_by_the_code():
    stale = sorted(listed(configuration_page()) - variables_read_in_code())
    assert stale == [], f"docs/configuration.md lists variables nothing reads: {stale}"


def test_env_example_shows_a_few_real_variables():
    text = (ROOT / ".env.example").read_text()
    shown = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    assert shown and shown <= listed(configuration_page())
    # 16: the mailbox whose replies are read (IMAP_URL, issue 30) is one of the founder's few.
    assert len(shown) <= 16, "the founder's few: the rest belongs on docs/configuration.md"
