"""Rewrite the generated sections of the README from the code, so that they cannot drift from it.

    python docs/generate.py          # rewrite them
    python docs/generate.py --check  # exit 1 if any is out of date (tests/test_docs.py runs this check)

A generated section sits between `<!-- generated:NAME -->` and `<!-- end:NAME -->`; NAME picks
the function below that makes it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = (ROOT / "README.md",)


def _month() -> str:
    from simulation.model import month_table

    return month_table()


SECTIONS: dict[str, Callable[[], str]] = {"month": _month}


def render(text: str) -> str:
    """The text with every generated section made anew."""
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- end:{name} -->)", re.DOTALL)
        body = make()
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    stale = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(new, encoding="utf-8")
    if stale and "--check" in argv:
        print(f"out of date: {', '.join(str(p.relative_to(ROOT)) for p in stale)}; run python docs/generate.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
