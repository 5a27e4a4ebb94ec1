"""Where the templates and static files are, wherever the package is installed.

A wheel carries them inside the package (`imageuploader/templates`, see
pyproject's force-include); a source checkout, editable installs included,
keeps them at the top of the repository, beside `src/`.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def resource_dir(name: str) -> Path:
    for candidate in (PACKAGE / name, PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"imageuploader's {name}/ folder is missing (looked in {PACKAGE})")


def htmx_file(static_dir: Path) -> str:
    """The vendored htmx script's file name (its version is part of the name)."""
    return sorted(p.name for p in (static_dir / "vendor").glob("htmx-*.min.js"))[-1]
