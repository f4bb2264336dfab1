"""Compiles the pages' catalogs into every build, so that an installed package (a wheel, or
``pip install .``) answers in English: the .mo files are built, never committed, and
``make translations`` builds them only for a work tree. All other metadata is pyproject.toml's.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    """setuptools' build_py, then each ``<lang>/LC_MESSAGES/messages.po`` compiled into the
    build as ``messages.mo`` (fuzzy entries left out, as ``pybabel compile`` does)."""

    def _catalogs(self):
        """(source .po, built .mo) of each language."""
        web = Path(self.get_package_dir("queue_service.web"))
        for po_path in sorted(web.glob("translations/*/LC_MESSAGES/*.po")):
            relative = po_path.relative_to(web)
            yield po_path, Path(self.build_lib, "queue_service", "web", relative).with_suffix(".mo")

    def run(self):
        super().run()
        for po_path, mo_path in self._catalogs():
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=po_path.parent.parent.name)
            # Written over any .mo that a work tree's `make translations` left as package data.
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        return outputs + [str(mo) for _, mo in self._catalogs() if str(mo) not in outputs]


setup(cmdclass={"build_py": BuildPyWithCatalogs})
