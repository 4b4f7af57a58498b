"""Sphinx configuration of genlab's documentation site.

Build it offline with the README's command::

    pip install -e ".[docs]" && sphinx-build -W --keep-going -b html docs docs/_build/html

Generated at build time (not in git): the API reference (``api/``, from ``__all__``), the op
gallery (``gallery/``, from the op registry) and the notebooks (``notebooks/``, copied from
the repository's ``notebooks/`` and executed by myst-nb).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]
# the notebooks' kernels import genlab from this checkout too
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
os.environ.setdefault("MPLBACKEND", "Agg")

import apigen  # noqa: E402
import gallery  # noqa: E402

import genlab  # noqa: E402

project = "genlab"
author = "the genlab authors"
copyright = "the genlab authors"  # noqa: A001
release = version = genlab.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
    "sphinxarg.ext",
]

exclude_patterns = ["_build", "performance_table.md", "**/.ipynb_checkpoints", "notebooks/exported"]
suppress_warnings = ["myst.header"]
nitpicky = True  # a broken cross-reference is a warning, and -W makes it an error

# -- what the build may not reach: the network --------------------------------------------
# No intersphinx (it would download inventories); references to other projects' objects are
# plain text. Only genlab's own names must resolve.
nitpick_ignore_regex = [
    ("py:.*", r"(?!genlab\b).*"),  # numpy.ndarray, pathlib.Path, torch.Tensor, builtins, ...
    ("py:.*", r"genlab\..*\._.*"),  # private helpers named in signatures
    ("py:class", r"genlab\.[\w.]*\.[A-Z]"),  # type variables (T) in signatures
]

# -- API reference ---------------------------------------------------------------------
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_default_options = {"exclude-members": "__init__, __new__"}
autosummary_generate = False  # the pages are written by apigen from __all__
# frameworks an adapter imports are mocked when absent, so the docs extra need not install them
autodoc_mock_imports = [
    m for m in ("torch", "keras", "dask", "distributed") if importlib.util.find_spec(m) is None
]
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = {"GL08"}  # every documented public object has a docstring
numpydoc_validation_exclude = {
    r"\.__\w+__$",
    r"^genlab\.ops\.(decode|read_errors)\.ImageSource$",  # a type alias: typing objects carry no docstring of their own
    r"^genlab\.transforms\.target_kernels\.TargetKernel$",  # ditto
    r"^genlab\.lab\.lab_views\.\w+View\.(build|render)$",  # overrides of LabView's documented build/render
}

# -- notebooks -------------------------------------------------------------------------
nb_execution_mode = os.environ.get("GENLAB_DOCS_EXECUTE", "force")  # "off" for a quick draft
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_ipywidgets_js = {}  # no widget manager from a CDN
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None)
]  # their text form instead
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- theme: everything it needs is bundled (no CDN) ---------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"genlab {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "getting-started": [], "performance": []}
html_last_updated_fmt = None
html_show_sourcelink = False

_reference = apigen.Reference()


def _copy_notebooks() -> None:
    out = DOCS / "notebooks"
    out.mkdir(exist_ok=True)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        target = out / path.name
        if not target.exists() or target.read_bytes() != path.read_bytes():
            shutil.copyfile(path, target)


def _generate(app) -> None:
    _reference.write(DOCS / "api")
    gallery.write_gallery(DOCS / "gallery")
    _copy_notebooks()


def setup(app):
    app.connect("builder-inited", _generate)
    app.connect("missing-reference", apigen.resolve_alias(_reference))
