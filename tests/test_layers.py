"""`make lint`'s layer check: it passes on the tree and fails on an arrow against it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "tools/check_layers.py"


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), str(root)], capture_output=True, text=True)


def plant(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def test_the_tree_keeps_its_layers():
    result = check(ROOT)
    assert result.returncode == 0, result.stdout


def test_each_arrow_against_the_layers_is_named(tmp_path):
    plant(tmp_path, "queue_service/domain/rules.py", "from queue_service.web import limits\n")
    plant(tmp_path, "queue_service/store/keys.py", "def f():\n    import queue_service.domain.catalog\n")
    plant(tmp_path, "queue_service/notifications/texts.py", "from flask import g\n")
    plant(tmp_path, "queue_service/cli.py", "from workers.worker import run_worker\n")
    plant(tmp_path, "queue_service/domain/ok.py", "from queue_service.store import keys\n")
    plant(tmp_path, "queue_service/web/views.py", "from ..domain import catalog\nimport flask\n")
    result = check(tmp_path)
    assert result.returncode == 1
    named = sorted(line.split(":")[0] for line in result.stdout.splitlines() if ": imports " in line)
    assert named == [
        "queue_service/cli.py",
        "queue_service/domain/rules.py",
        "queue_service/notifications/texts.py",
        "queue_service/store/keys.py",
    ]


def test_a_relative_import_is_resolved_before_it_is_judged(tmp_path):
    plant(tmp_path, "queue_service/domain/rules.py", "from ..web import limits\n")
    result = check(tmp_path)
    assert result.returncode == 1 and "imports queue_service.web" in result.stdout


def test_a_module_imported_by_name_from_its_package_is_judged(tmp_path):
    plant(tmp_path, "queue_service/domain/rules.py", "from queue_service import web\n")
    plant(tmp_path, "queue_service/domain/more.py", "from .. import web\n")
    result = check(tmp_path)
    assert result.returncode == 1
    assert "domain/rules.py:1: imports queue_service.web" in result.stdout
    assert "domain/more.py:1: imports queue_service.web" in result.stdout
