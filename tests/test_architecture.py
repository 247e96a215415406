"""The house stays one-way: core <- prospects <- tracking <- alerts <- backoffice <- arkwatch.

Read from the source (ast), so a new import that runs back up, or a function-level import that hides
a cycle, fails here with the file and line to look at."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["core", "prospects", "tracking", "alerts", "backoffice", "arkwatch"]
RANK = {app: rank for rank, app in enumerate(LAYERS)}


def product_modules():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def imported_apps(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names = [node.module]
    else:
        return []
    return [name.split(".")[0] for name in names if name.split(".")[0] in RANK]


def test_no_app_imports_an_app_above_it():
    upward = []
    for app, path in product_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            for target in imported_apps(node):
                if RANK[target] > RANK[app]:
                    upward.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {target}")
    assert upward == []


def test_no_function_level_import_of_product_code_outside_app_ready():
    hidden = []
    for _app, path in product_modules():
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name == "ready":
                continue
            for node in ast.walk(function):
                if imported_apps(node):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno} in {function.name}()")
    assert hidden == []


# A file (with its extension) or a folder (with its slash) of the repository, not a URL's path.
PATH = re.compile(
    r"(?<![\w/.-])(?:core|prospects|tracking|alerts|backoffice|arkwatch|bench|bin|tests|docs|templates)/"
    r"(?:[\w/-]*\w\.(?:py|md|js|html|json|toml|sh)\b|(?:[\w-]+/)+)"
)
FILE_IN_ROW = re.compile(r"`([\w/]+\.(?:py|js|html))`")


def named_paths(text: str) -> set[str]:
    """Every path a page names: written whole (`alerts/outbox/delivery.py`), or as a file in a table row
    whose first cell is its folder (| `tracking/` | … | `views.py`, `services.py` |)."""
    named = {m.rstrip(".") for m in PATH.findall(text)}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 2 and re.fullmatch(r"`[\w/]+/`", cells[1]):
            folder = cells[1].strip("`")
            named |= {folder + name for cell in cells[2:] for name in FILE_IN_ROW.findall(cell) if "/" not in name}
    return named


@pytest.mark.parametrize("page", ["architecture.md", "how-it-works.md"])
def test_the_pages_on_the_code_name_files_that_exist(page):
    missing = sorted(name for name in named_paths((ROOT / "docs" / page).read_text()) if not (ROOT / name).exists())
    assert missing == []


def test_no_module_cites_a_file_outside_the_repository():
    """The public interface is documented in docs/interface.md; a reference to the contract's sections points a
    reader at a file this repository does not ship."""
    modules = [path for _app, path in product_modules()] + sorted((ROOT / "tests").glob("*.py"))
    marker = "CONTRACT" + " §"  # spelled apart, so that this file does not cite it
    citing = [str(path.relative_to(ROOT)) for path in modules if marker in path.read_text()]
    assert citing == []


# Inside alerts/, rooms by job, one way: what a signal is <- getting a text out <- what came of it <- the
# app's top (alerts/cycle.py, tasks.py, receivers.py, selectors.py, models.py, admin.py, commands), which
# ties them together. Each room imports its own models, never the app's index (alerts/models.py).
ROOMS = ["alerts.signals", "alerts.outbox", "alerts.outcomes", "alerts"]


def room_of(module: str) -> str:
    return next(room for room in ROOMS if module == room or module.startswith(room + "."))


def test_the_rooms_of_alerts_import_one_way():
    upward = []
    for path in sorted((ROOT / "alerts").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        here = ROOMS.index(room_of(module))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("alerts"):
                targets = [node.module] if node.module != "alerts" else [f"alerts.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("alerts")]
            else:
                continue
            for target in targets:
                if ROOMS.index(room_of(target)) > here:
                    upward.append(f"{path.relative_to(ROOT)}:{node.lineno} ({room_of(module)}) imports {target}")
    assert upward == []


def test_each_room_of_alerts_holds_its_models_services_and_admin():
    for room in ("signals", "outbox", "outcomes"):
        assert (ROOT / "alerts" / room / "models.py").exists(), room
        assert (ROOT / "alerts" / room / "admin.py").exists(), room


def test_a_prospects_status_is_written_in_one_function():
    """prospects/services.py `prospects_set_status` owns the pipeline's writes (what may move a prospect,
    from which status): no other module updates the column behind its back."""
    writers = []
    for _app, path in product_modules():
        if path == ROOT / "prospects" / "services.py":
            continue
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "update"
                and any(k.arg == "status" for k in node.keywords)
                and "Prospect.objects" in (ast.get_source_segment(source, node.func.value) or "")
            ):
                writers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writers == []
