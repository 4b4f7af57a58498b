"""The lab's "add" menu: every registered stage and op, grouped by kind, with its help line.

Pure functions over :mod:`genlab.registry` (no widgets), so the grouping is tested without
Jupyter and works for whatever registers later: an op kind genlab knows is listed in
:data:`GROUP_ORDER`; any other kind (say ``"albumentations"``) gets a group of its own after
them, and the pipeline's own stages come last.

>>> from genlab.lab.menu import menu_groups
>>> groups = dict(menu_groups())
>>> "random_resized_crop" in groups["geometry"], "read_images" in groups["pipeline stages"]
(True, True)
>>> list(groups)[0]
'geometry'
"""

from __future__ import annotations

from collections.abc import Iterable

from genlab import registry

__all__ = [
    "GROUP_ORDER",
    "HEADING_PREFIX",
    "group_label",
    "is_heading",
    "menu_groups",
    "menu_options",
]

#: Kinds in the order the menu lists them, with the heading each gets.
GROUP_ORDER: dict[str, str] = {
    "geometry": "geometry",
    "colour": "colour",
    "noise": "noise and erasing",
    "policy": "policies",
    "mixing": "batch mixing",
    "group": "groups of ops",
}
#: Heading of the pipeline's own stages (kind ``"stage"``), listed last.
STAGE_HEADING = "pipeline stages"
#: What a heading entry of the dropdown starts with (a heading is not a stage).
HEADING_PREFIX = "── "


def group_label(kind: str) -> str:
    """The heading of the menu group holding stages of ``kind``.

    >>> group_label("noise"), group_label("stage"), group_label("albumentations")
    ('noise and erasing', 'pipeline stages', 'albumentations')
    """
    if kind == "stage":
        return STAGE_HEADING
    return GROUP_ORDER.get(kind, kind)


def _rank(kind: str) -> tuple[int, str]:
    known = list(GROUP_ORDER)
    if kind in known:
        return (0, f"{known.index(kind):03d}")
    if kind == "stage":
        return (2, "")
    return (1, kind)  # kinds genlab does not know, alphabetically, before the stages


def menu_groups(names: Iterable[str] | None = None) -> list[tuple[str, list[str]]]:
    """``[(heading, [stage names, sorted]), ...]`` in menu order; empty groups are left out.

    ``names`` defaults to every registered stage.
    """
    by_kind: dict[str, list[str]] = {}
    for name in registry.names() if names is None else names:
        by_kind.setdefault(registry.get(name).kind, []).append(name)
    return [(group_label(kind), sorted(by_kind[kind])) for kind in sorted(by_kind, key=_rank)]


def menu_options(names: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """Dropdown entries ``(label, value)``: a heading before each group's names.

    A heading's value is its label, which no stage name can be (see :func:`is_heading`).

    >>> for option in menu_options(["hflip", "read_images"]):
    ...     print(option)
    ('── geometry ──', '── geometry ──')
    ('   hflip', 'hflip')
    ('── pipeline stages ──', '── pipeline stages ──')
    ('   read_images', 'read_images')
    """
    options: list[tuple[str, str]] = []
    for heading, members in menu_groups(names):
        label = f"{HEADING_PREFIX}{heading} ──"
        options.append((label, label))
        options.extend((f"   {name}", name) for name in members)
    return options


def is_heading(value: str | None) -> bool:
    """Whether a dropdown value is a group heading rather than a stage name."""
    return isinstance(value, str) and value.startswith(HEADING_PREFIX)
