"""The house stays one-way: core <- prospects <- tracking <- alerts <- backoffice <- arkwatch.

Read from the source (ast), so a new import that runs back up, or a function-level import that hides
a cycle, fails here with the file and line to look at."""

import ast
from pathlib import Path

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


def test_the_architecture_page_names_files_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = {word.strip("`") for word in text.split() if word.startswith("`") and word.rstrip("`,.").endswith(".py")}
    missing = sorted(name.rstrip("`,.") for name in named if "/" in name and not (ROOT / name.rstrip("`,.")).exists())
    assert missing == []


def test_no_module_cites_a_file_outside_the_repository():
    """The public interface is documented in docs/interface.md; a reference to the contract's sections points a
    reader at a file this repository does not ship."""
    modules = [path for _app, path in product_modules()] + sorted((ROOT / "tests").glob("*.py"))
    marker = "CONTRACT" + " §"  # spelled apart, so that this file does not cite it
    citing = [str(path.relative_to(ROOT)) for path in modules if marker in path.read_text()]
    assert citing == []
