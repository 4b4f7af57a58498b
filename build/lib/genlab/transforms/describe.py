"""The table of ops, made from the registry: one row per op, for the README and the docs.

``python -m genlab.transforms.describe README.md`` rewrites the table between the README's
``<!-- ops-table -->`` markers; a test checks that the README's table is current.

>>> row = next(r for r in describe_ops() if r["name"] == "hflip")
>>> row["kind"], row["params"], row["torchvision"]
('geometry', 'p=0.5', 'RandomHorizontalFlip')
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from .op import KINDS, get_op, op_names

__all__ = ["describe_ops", "ops_table", "update_readme"]

START, END = "<!-- ops-table:start -->", "<!-- ops-table:end -->"


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_value(x) for x in v) + ")"
    return repr(v) if isinstance(v, str) else str(v)


def describe_ops(kinds: tuple[str, ...] = KINDS) -> list[dict[str, str]]:
    """One row per registered op of ``kinds``, in the lab's kind order, then by name.

    Each row: ``name``, ``kind``, ``params`` (``name=default`` pairs), ``help``,
    ``torchvision`` and ``albumentations`` (the equivalent class, or ``""``).
    """
    rows = []
    for kind in kinds:
        for name in op_names(kind):
            op = get_op(name)
            rows.append({
                "name": name,
                "kind": kind,
                "params": ", ".join(f"{p}={_value(d.default)}" for p, d in op.params.items()),
                "help": op.help,
                "torchvision": op.equivalents.get("torchvision", ""),
                "albumentations": op.equivalents.get("albumentations", ""),
            })  # fmt: skip
    return rows


def ops_table(rows: list[dict[str, str]]) -> str:
    """The rows as a Markdown table: op, kind, parameters (defaults), what it does, torchvision."""
    lines = [
        "| op | kind | parameters (defaults) | what it does | torchvision |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [f"`{r['name']}`", r["kind"], f"`{r['params']}`" if r["params"] else "",
                 r["help"], r["torchvision"]]  # fmt: skip
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def update_readme(path: str | Path) -> bool:
    """Rewrite the table between the markers in ``path``; True if it changed."""
    path = Path(path)
    text = path.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{path}: no {START} ... {END} markers to put the ops table between")
    block = f"{START}\n{ops_table(describe_ops())}\n{END}"
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda m: block, text, flags=re.S)
    if new != text:
        path.write_text(new)
    return new != text


if __name__ == "__main__":  # pragma: no cover
    for arg in sys.argv[1:] or ["README.md"]:
        print(f"{arg}: {'updated' if update_readme(arg) else 'already current'}")
