"""Fail when an import runs against the layers: web -> domain -> store, workers a leaf.

    python tools/check_layers.py [ROOT]

Rules (a module's package on the left may not import the packages on the right):
- queue_service/domain, queue_service/store: queue_service.web, flask, workers;
- queue_service/store: queue_service.domain, queue_service.notifications too;
- queue_service/notifications: queue_service.web, flask, workers;
- anything under queue_service/: workers (the worker is started from outside, by name).

Every import is read from the source (``ast``), including those inside functions and
``if TYPE_CHECKING`` blocks: a lazy import is still an arrow.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

FORBIDDEN = {
    "queue_service/domain": ("queue_service.web", "flask", "workers"),
    "queue_service/store": (
        "queue_service.web",
        "queue_service.domain",
        "queue_service.notifications",
        "flask",
        "workers",
    ),
    "queue_service/notifications": ("queue_service.web", "flask", "workers"),
    "queue_service": ("workers",),
}


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """Each module ``path`` imports, absolute, with its line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's own package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            # `from queue_service import web` imports the module queue_service.web too.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if base]
    return found


def violations(root: Path) -> list[str]:
    """One line per import against the layers: the file, its line, and the banned module."""
    problems = {}
    for path in sorted((root / "queue_service").rglob("*.py")):
        relative = path.relative_to(root)
        package = ".".join(relative.parent.parts)
        banned_here = [
            banned
            for folder, rule in FORBIDDEN.items()
            if relative.as_posix().startswith(folder + "/")
            for banned in rule
        ]
        for line, module in imported_modules(path, package):
            hit = next((b for b in banned_here if module == b or module.startswith(b + ".")), None)
            if hit is not None:  # the first name a statement imports against a rule speaks for it
                problems.setdefault((relative, line), f"{relative}:{line}: imports {hit} ({package} may not)")
    return sorted(problems.values())


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    problems = violations(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} import(s) against the layers")
        return 1
    print("layers: no import against them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
