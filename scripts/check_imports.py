"""Fail on an import that goes up a floor or closes a circle (`make check-imports`).

The floors, bottom to top, are the README's layout: run types, models and config; the
domain packages (episodes, library, captions, media, sources); engines; stages; pipeline;
routes, cli and the app. A module may import its own floor or any floor below. Every
import counts, including those inside functions or under TYPE_CHECKING: an import tucked
into a function to dodge a circle is still a circle.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Longest matching prefix wins.
FLOORS: dict[str, int] = {
    "services": 0,
    "config": 0,
    "models": 0,
    "services.run": 0,
    "services.atomic": 0,
    "services.episodes": 1,
    "services.library": 1,
    "services.captions": 1,
    "services.media": 1,
    "services.sources": 1,
    "services.engines": 2,
    "services.stages": 3,
    "services.pipeline": 4,
    "services.server.system_info": 4,
    "routes": 5,
    "cli": 5,
    "app": 5,
}
PACKAGES = ("app", "config", "models", "services", "routes", "cli")
# The only modules allowed loose in services/: everything else lives in a package.
LOOSE_SERVICES = {"services", "services.atomic"}


def floor_of(module: str) -> int | None:
    """Return the floor of a project module, or None for one outside the floors."""
    best = None
    for prefix, floor in FLOORS.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, floor)
    return None if best is None else best[1]


def module_name(path: Path) -> str:
    """Return the dotted name of a source file."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Return every module of the layered packages by name."""
    modules = {"app": ROOT / "app.py"}
    for package in PACKAGES[1:]:
        for path in (ROOT / package).rglob("*.py"):
            modules[module_name(path)] = path
    return modules


def imports_of(path: Path, name: str, known: set[str]) -> list[tuple[str, int]]:
    """Return (imported project module, line) for every import in a file."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            # The deepest project module the import names (a submodule or its package).
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.append((target, node.lineno))
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import circle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def package_of(module: str) -> str:
    """Return the package a module belongs to (the module itself for a loose one)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "services" and len(parts) > 2 else module


def check() -> list[str]:
    """Return every problem found."""
    modules = project_modules()
    known = set(modules)
    problems = []
    graph: dict[str, set[str]] = {}
    for name, path in sorted(modules.items()):
        own = floor_of(name)
        if own is None and name.startswith("services"):
            problems.append(f"{name}: on no floor; add its package to FLOORS and the README")
        loose = name.count(".") == 1 and path.name != "__init__.py"
        if name.startswith("services.") and loose and name not in LOOSE_SERVICES:
            problems.append(f"{name}: a loose module; put it in the package of what it is")
        graph[name] = set()
        for target, line in imports_of(path, name, known):
            graph[name].add(target)
            theirs = floor_of(target)
            if own is not None and theirs is not None and theirs > own:
                rel = path.relative_to(ROOT)
                problems.append(
                    f"{rel}:{line}: {name} (floor {own}) imports up: {target} ({theirs})"
                )
    cycle = find_cycle(graph)
    if cycle:
        problems.append("import circle: " + " -> ".join(cycle))
    packages: dict[str, set[str]] = {}
    for name, targets in graph.items():
        packages.setdefault(package_of(name), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(name)
        )
    cycle = find_cycle(packages)
    if cycle:
        problems.append("package circle: " + " -> ".join(cycle))
    return problems


def main() -> int:
    """Print the problems and exit non-zero when there is any."""
    problems = check()
    for problem in problems:
        print(problem)
    count = len(project_modules())
    print(f"check-imports: {count} modules, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
