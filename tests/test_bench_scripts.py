"""The benchmark scripts (`make bench`, run by hand) still load: a refactor that moves what
they import breaks them where no other test would notice."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "bench").glob("*.py")))
def test_a_bench_script_loads(script):
    # Run as a module of another name: its definitions and imports, not its benchmark.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy, sys; sys.path.insert(0, 'bench'); "
            f"runpy.run_path('bench/{script}', run_name='loaded')",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
