"""Find widgets by CSS class in a widget tree, as a browser test finds elements (no browser)."""

from __future__ import annotations


def walk(widget):
    """Yield ``widget`` and every widget inside it, depth first."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def with_class(root, css_class: str) -> list:
    """The widgets under ``root`` (itself included) that carry ``css_class``."""
    return [w for w in walk(root) if css_class in getattr(w, "_dom_classes", ())]


def the_one(root, css_class: str):
    """The single widget under ``root`` that carries ``css_class`` (asserted to be one)."""
    found = with_class(root, css_class)
    assert len(found) == 1, css_class
    return found[0]
