"""Every Python block of the README and docs/ runs as written, in order, one namespace per page,
the way a new user would paste them (in a fresh folder, with the library's default dtype).

A block whose first line is `# excerpt: <file>` quotes library or example code that runs
elsewhere (the library itself, the example's own test) and is skipped here.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

import graphgrad as gg

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


def test_the_pages_have_blocks_to_run():
    runnable = [b for page in PAGES for b in python_blocks(page) if not b.startswith("# excerpt")]
    assert len(runnable) >= 5  # the pattern still finds the blocks


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    with gg.default_dtype("float32"):
        for number, block in enumerate(python_blocks(page)):
            if block.startswith("# excerpt"):
                continue
            exec(compile(block, f"{page.name}, python block {number}", "exec"), namespace)  # noqa: S102
