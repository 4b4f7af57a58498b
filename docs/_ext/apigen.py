"""Write the API reference pages from the packages' ``__all__`` (no list kept by hand).

One page for ``genlab`` (every name of ``genlab.__all__``, at its public path), one per public
subpackage (``genlab.lab``, ``genlab.integrations.*``), and one page of modules for everything
else a docstring may point to (``genlab.transforms.replay``, ...). An object is described
once, at its first public path; a cross-reference to another path of the same object (the
module it is defined in) is resolved to that description by :func:`resolve_alias`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from pathlib import Path

#: Pages of the reference: (page name, module, title, intro). Their names are documented at
#: these paths; the modules page documents the rest.
PUBLIC = (
    ("genlab", "genlab", "genlab", "Everything ``import genlab`` gives you."),
    ("genlab.lab", "genlab.lab", "genlab.lab", 'The Jupyter widgets (``pip install "genlab[lab]"``).'),
    ("genlab.integrations.torch", "genlab.integrations.torch", "genlab.integrations.torch",
     'PyTorch adapters (``pip install "genlab[torch]"``).'),
    ("genlab.integrations.keras", "genlab.integrations.keras", "genlab.integrations.keras",
     'Keras 3 adapter (``pip install "genlab[keras]"``).'),
    ("genlab.integrations.dask", "genlab.integrations.dask", "genlab.integrations.dask",
     'Dataset-wide passes on Dask (``pip install "genlab[dask]"``).'),
)  # fmt: skip

#: Modules that are entry points, not libraries.
SKIP_MODULES = {"genlab.__main__"}


def public_names(module: types.ModuleType) -> list[str]:
    """The module's ``__all__`` without dunder names (``__version__`` is shown in the text).

    A module without ``__all__`` exports the public functions and classes defined in it.
    """
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not n.startswith("__")]
    return [
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    ]


def all_modules() -> list[str]:
    """Every genlab module, sorted, as a dotted name."""
    import genlab

    found = ["genlab"] + [m.name for m in pkgutil.walk_packages(genlab.__path__, "genlab.")]
    return sorted(m for m in found if m not in SKIP_MODULES)


def _directive(obj: object) -> str:
    if inspect.ismodule(obj):
        return ""
    if inspect.isclass(obj):
        return "autoclass"
    if callable(obj):
        return "autofunction"
    return "autodata"


def _op_entry(path: str, op: object) -> str:
    """A registered op, described by its declarations (its docstring would be its class's)."""
    signature = ", ".join(f"{name}={param.default!r}" for name, param in op.params.items())
    return (
        f".. py:function:: {path}(*, {signature})\n\n"
        f"   {op.help[:1].upper() + op.help[1:]}.\n\n"
        f"   A registered op of kind ``{op.kind}`` (a :class:`~genlab.transforms.{type(op).__name__}`): "
        "calling it checks the parameters and returns the stage; it is also a stage name for "
        f"``Pipeline`` and specs. Parameters, pictures and equivalents: :doc:`/gallery/{op.name}`.\n"
    )


def _is_op(obj: object) -> bool:
    from genlab.transforms import BatchOp, Op, op_names

    return isinstance(obj, (Op, BatchOp)) and obj.name in op_names()


def _entry(path: str, obj: object) -> str:
    if _is_op(obj):
        return _op_entry(path, obj)
    directive = _directive(obj)
    if directive == "autoclass":
        # a class built on genlab's own base classes (Pipeline on SourceConstructors) shows their
        # members as its own
        mixed = [b for b in getattr(obj, "__mro__", ())[1:] if b.__module__.startswith("genlab")]
        inherited = "   :inherited-members:\n" if mixed else ""
        return (
            f".. autoclass:: {path}\n   :members:\n   :undoc-members:\n{inherited}"
            "   :show-inheritance:\n"
        )
    return f".. {directive}:: {path}\n"


def _title(text: str, underline: str = "=") -> str:
    return f"{text}\n{underline * len(text)}\n"


class Reference:
    """Which object is documented at which path; writes the pages."""

    def __init__(self) -> None:
        self.documented: dict[int, str] = {}  # id(object) -> the path it is described at
        self._keep: list[object] = []  # keep the objects alive so their ids stay unique

    def _claim(self, path: str, obj: object) -> bool:
        if inspect.ismodule(obj) or id(obj) in self.documented:
            return False
        self.documented[id(obj)] = path
        self._keep.append(obj)
        return True

    def public_page(self, module_name: str, title: str, intro: str) -> str:
        module = importlib.import_module(module_name)
        names = public_names(module)
        lines = [_title(title), f"{intro}\n", f".. automodule:: {module_name}\n   :no-members:\n"]
        if module_name == "genlab":
            lines.append(f"``genlab.__version__`` is ``{module.__version__!r}``.\n")
        lines.append(f".. currentmodule:: {module_name}\n\n.. autosummary::\n")
        lines += [f"   {n}" for n in names]
        lines.append("")
        for name in names:
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                lines.append(
                    f"``{name}``: the module :mod:`{obj.__name__}` (see :doc:`modules`).\n"
                )
            elif self._claim(f"{module_name}.{name}", obj):
                lines.append(_entry(f"{module_name}.{name}", obj))
        return "\n".join(lines)

    def modules_page(self, skip: set[str]) -> str:
        lines = [
            _title("Modules"),
            "Every module of genlab, with the names it exports. A name that is also part of a "
            "public package above is described there and linked from here.\n",
        ]
        for module_name in all_modules():
            if module_name in skip:
                continue
            module = importlib.import_module(module_name)
            lines.append(_title(f"``{module_name}``", "-"))
            lines.append(f".. automodule:: {module_name}\n   :no-members:\n")
            elsewhere = []
            for name in public_names(module):
                obj = getattr(module, name)
                if inspect.ismodule(obj):
                    continue
                if self._claim(f"{module_name}.{name}", obj):
                    lines.append(_entry(f"{module_name}.{name}", obj))
                else:
                    elsewhere.append(self.documented[id(obj)])
            if elsewhere:
                refs = ", ".join(f":py:obj:`~{p}`" for p in elsewhere)
                lines.append(f"Also exported here: {refs}.\n")
        return "\n".join(lines)

    def write(self, out: Path) -> list[Path]:
        """Write every page into ``out`` (created); return the paths written."""
        out.mkdir(parents=True, exist_ok=True)
        written = []
        pages = [
            (page, self.public_page(module, title, intro)) for page, module, title, intro in PUBLIC
        ]
        pages.append(("modules", self.modules_page({module for _, module, _, _ in PUBLIC})))
        pages.insert(
            0,
            (
                "index",
                _title("API reference")
                + "\nGenerated from the docstrings of every name in the packages' ``__all__``; "
                "the examples in them run as doctests (``pytest --doctest-modules``).\n\n"
                ".. toctree::\n   :maxdepth: 1\n\n" + "".join(f"   {p}\n" for p, _ in pages),
            ),
        )
        for page, text in pages:
            path = out / f"{page}.rst"
            _write_if_changed(path, text)
            written.append(path)
        return written

    def resolve(self, target: str) -> str | None:
        """The documented path of the object that ``target`` (a dotted path) names, if any."""
        obj = _lookup(target)
        if obj is None:
            return None
        path = self.documented.get(id(obj))
        return path if path != target else None


def _lookup(target: str) -> object | None:
    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _write_if_changed(path: Path, text: str) -> None:
    # an unchanged file keeps its mtime, so Sphinx does not re-read the page
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def resolve_alias(reference: Reference):
    """A ``missing-reference`` handler: a path of a documented object links to its description."""

    def handler(app, env, node, contnode):
        if node.get("refdomain") != "py":
            return None
        target = node.get("reftarget", "")
        candidates = [target]
        module = node.get("py:module")
        if module and not target.startswith("genlab"):
            candidates.append(f"{module}.{target}")
            cls = node.get("py:class")
            if cls:
                candidates.append(f"{module}.{cls}.{target}")
        for candidate in candidates:
            if not candidate.startswith("genlab"):
                continue
            path = reference.resolve(candidate)
            if path is None and "." in candidate:  # a method or attribute of a documented class
                owner, _, attr = candidate.rpartition(".")
                owner_path = reference.resolve(owner)
                path = f"{owner_path}.{attr}" if owner_path else None
            if path is None:
                continue
            domain = env.get_domain("py")
            found = domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], path, node, contnode
            )
            if found is None:
                found = domain.resolve_any_xref(
                    env, node["refdoc"], app.builder, path, node, contnode
                )
                found = found[0][1] if found else None
            if found is not None:
                return found
        return None

    return handler
