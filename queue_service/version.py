"""The installed release of the service: what `queue-service --version` prints and
`/metrics` labels ``antrian_build_info`` with."""

from __future__ import annotations

import functools
import importlib.metadata


@functools.cache
def package_version() -> str:
    """The installed package's version, as pip knows it."""
    try:
        return importlib.metadata.version("antrian")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree never installed
        return "unknown (not installed)"
