"""The export and load box of :class:`~genlab.lab.PipelineLab`.

Export writes the spec, a Python file and the preview's position (:mod:`genlab.lab.lab_files`);
load offers the specs found under the notebook's folder in a dropdown (or a typed path), restores
the exported grid (epoch, batch and draw) and says what it loaded.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import TYPE_CHECKING

import ipywidgets as widgets

from genlab.lab.lab_files import find_specs
from genlab.lab.lab_panel import button
from genlab.lab.lab_views import export_html

if TYPE_CHECKING:
    from genlab.lab.lab_widget import PipelineLab

__all__ = ["FilesBox"]

#: The dropdown entry that stands for "type a path instead".
TYPED = "(type a path)"


class FilesBox:
    """Export to a path; load a spec picked from the specs under ``folder`` or typed in."""

    def __init__(
        self, lab: PipelineLab, export_stem: str | os.PathLike, folder: str | os.PathLike = "."
    ) -> None:
        self.lab = lab
        self.folder = Path(folder)
        self.export_path = widgets.Text(
            value=str(export_stem), description="export to", layout=widgets.Layout(width="26em")
        )
        self.export_path.add_class("genlab-export-path")
        self.export_result = widgets.HTML()
        self.export_result.add_class("genlab-export-result")
        self.load_choice = widgets.Dropdown(
            description="load spec", layout=widgets.Layout(width="26em")
        )
        self.load_choice.add_class("genlab-load-choice")
        self.load_path = widgets.Text(
            placeholder="or type a path: spec.json", layout=widgets.Layout(width="26em")
        )
        self.load_path.add_class("genlab-load-path")
        self.load_result = widgets.HTML()
        self.load_result.add_class("genlab-load-result")
        export = button(
            "export",
            "genlab-export",
            self.on_export,
            "write the spec (.json) and a Python file (.py)",
        )
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.export_path, export]),
                self.export_result,
                widgets.HBox(
                    [
                        self.load_choice,
                        button("↻", "genlab-load-refresh", self.refresh, "look for specs again"),
                        button("load", "genlab-load", self.on_load),
                    ]
                ),
                self.load_path,
                self.load_result,
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        """List the specs found under the folder (the notebook's, by default) in the dropdown."""
        specs = [str(p) for p in find_specs(self.folder)]
        chosen = self.load_choice.value
        self.load_choice.options = [*specs, TYPED]
        self.load_choice.value = chosen if chosen in specs else (specs[0] if specs else TYPED)

    def on_export(self) -> None:
        """The export button: write the pipeline's files, say where (or why not)."""
        try:
            result = self.lab.export(self.export_path.value)
        except Exception as error:  # shown in the widget, not as a traceback
            self.export_result.value = (
                f"<span style='color:#cf222e'>export failed: {html.escape(type(error).__name__)}: "
                f"{html.escape(str(error))}</span>"
            )
            return
        self.export_result.value = export_html(result)
        self.refresh()

    def chosen_path(self) -> Path | None:
        """The spec to load: the typed path if any, else the dropdown's choice."""
        typed = self.load_path.value.strip()
        if typed:
            path = Path(typed)
            return path if path.is_absolute() or path.exists() else self.folder / path
        if self.load_choice.value in (None, TYPED):
            return None
        return self.folder / self.load_choice.value

    def on_load(self) -> None:
        """The load button: open the chosen spec in the lab and show the grid it was exported at."""
        path = self.chosen_path()
        if path is None:
            self.load_result.value = (
                "<span style='color:#cf222e'>pick a spec in the list or type the path of one</span>"
            )
            return
        self.lab.load(path)

    def loaded(self, path: object, epoch: int, batch_index: int, draw: int) -> None:
        """Confirm a load: what was loaded and which grid shows."""
        self.load_result.value = (
            f"<span class='genlab-loaded'>loaded <code>{html.escape(str(path))}</code>: "
            f"batch {batch_index} of epoch {epoch}, draw {draw}</span>"
        )
