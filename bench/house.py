"""The shape of one package, read from its imports: files, the imports between them, and the same at
the scale of its rooms (each file or sub-package directly under it counts as one room).

    .venv/bin/python bench/house.py [alerts] [--root DIR]

floors: the longest chain of rooms importing rooms (1 = imports no room of the package); circles: groups
of rooms that import each other. Migrations and __init__ faces are left out. Prints figures; asserts nothing.
"""

import argparse
import ast
from pathlib import Path


def modules(root: Path, package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                targets.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
    return {t for t in targets if t in known}


def room(module: str, package: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else package


def floors(edges: dict[str, set[str]]) -> int:
    memo: dict[str, int] = {}

    def height(node: str, seen: frozenset[str]) -> int:
        if node in memo:
            return memo[node]
        below = [height(n, seen | {node}) for n in edges.get(node, ()) if n not in seen]
        memo[node] = 1 + max(below, default=0)
        return memo[node]

    return max((height(n, frozenset()) for n in edges), default=0)


def circles(edges: dict[str, set[str]]) -> list[set[str]]:
    def reaches(a: str, b: str) -> bool:
        todo, seen = [a], set()
        while todo:
            node = todo.pop()
            for nxt in edges.get(node, ()):
                if nxt == b:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    groups: list[set[str]] = []
    for node in edges:
        if any(node in g for g in groups):
            continue
        group = {node} | {other for other in edges if other != node and reaches(node, other) and reaches(other, node)}
        if len(group) > 1:
            groups.append(group)
    return groups


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("package", nargs="?", default="alerts")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    args = parser.parse_args()
    root = Path(args.root)
    known = modules(root, args.package)
    file_edges = {m: imports(p, known) - {m} for m, p in known.items()}
    faces = {m for m, p in known.items() if p.name == "__init__.py" and not p.read_text().strip()}
    rooms = {room(m, args.package) for m in known if m not in faces and m != args.package}
    room_edges: dict[str, set[str]] = {r: set() for r in rooms}
    for m, targets in file_edges.items():
        if m in faces or m == args.package:
            continue
        room_edges[room(m, args.package)] |= {room(t, args.package) for t in targets} - {room(m, args.package)}
    lines = sum(len(p.read_text().splitlines()) for m, p in known.items())
    print(f"{args.package}/ at {root}")
    between_files = sum(map(len, file_edges.values()))
    print(f"  files: {len(known) - len(faces)}, lines: {lines}, imports between files: {between_files}")
    print(
        f"  rooms: {len(rooms)}, imports between rooms: {sum(map(len, room_edges.values()))}, "
        f"floors: {floors(room_edges)}, circles: {len(circles(room_edges))}"
    )


if __name__ == "__main__":
    main()
