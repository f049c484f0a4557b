"""Rewrite the generated sections of the docs from the code, so that they cannot drift from it.

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
FILES = (ROOT / "README.md", ROOT / "docs" / "design.md", ROOT / "docs" / "outputs.md")


def _month() -> str:
    from simulation.model import month_table

    return month_table()


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _mechanisms() -> str:
    """What each mechanism declares (`simulation.registry.MECHANISMS`), counted."""
    from simulation.registry import MECHANISMS

    lines = [
        "| mechanism | what it is | parameters | levers | person / firm fields | outputs and flows | postings |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in MECHANISMS:
        first = _cell(m.doc.strip().split("\n")[0])
        fields = f"{len(m.person_fields)} / {len(m.firm_fields)}"
        outs = len(m.outputs) + len(m.flows)
        lines.append(
            f"| {m.name} | {first} | {len(m.parameters)} | {len(m.levers)} | {fields} | {outs} | {len(m.postings)} |"
        )
    return "\n".join(lines) + "\n"


def _money() -> str:
    """The ledger's categories, who pays whom, and what each counts towards."""
    from simulation.declare import PURPOSE
    from simulation.registry import MECHANISMS

    lines = ["| category | declared by | payer → payee | purpose | counted in |", "|---|---|---|---|---|"]
    for m in MECHANISMS:
        for name, p in m.postings.items():
            purpose = PURPOSE[p.purpose]
            sign = {1: "+ public_cost", -1: "− public_cost", 0: "not public money"}[purpose.public]
            counted = ", ".join(x for x in (purpose.total and f"+ {purpose.total}", sign) if x)
            lines.append(f"| `{name}` | {m.name} | {p.payer} → {p.payee} | {p.purpose} | {counted} |")
    return "\n".join(lines) + "\n"


def _outputs() -> str:
    """Every column of the monthly results, in order, with its unit and the mechanism that owns it."""
    from simulation.registry import REGISTRY

    lines = ["| column | unit | meaning | declared by |", "|---|---|---|---|"]
    for o in REGISTRY.outputs:
        lines.append(f"| `{o.name}` | {o.unit} | {_cell(o.doc)} | {REGISTRY.output_owner[o.name]} |")
    return "\n".join(lines) + "\n"


SECTIONS: dict[str, Callable[[], str]] = {
    "month": _month,
    "mechanisms": _mechanisms,
    "money": _money,
    "outputs": _outputs,
}


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
