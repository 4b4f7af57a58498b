"""Jupyter widgets for genlab: step generators by hand, tune and export image pipelines.

This is the only genlab package that imports ipywidgets and matplotlib; install it with
``pip install "genlab[lab]"``.

- :class:`GeneratorStepper`: ``next``/``send``/``throw``/``close`` buttons on any generator, with
  its state, paused line, locals and history.
- :class:`ChainStepper`: a whole ``GeneratorPipeline`` (or ``Pipeline``) stepped the way its driver
  runs it, one ``send`` at a time, drawn as a diagram of its stages.
- :class:`PipelineLab`: stage toggles and generated controls, a live grid of the batch, the
  memory and time each stage costs, export to a ``Pipeline``, a JSON spec and a Python file.

Each widget is a thin layer over a widget-free model, and the files say which is which:

==========================  ==========================================  =====================
what                        model (no widgets, tested without Jupyter)  widget
==========================  ==========================================  =====================
one generator               ``generator_model`` (GeneratorSession)      ``generator_widget``
a whole chain               ``chain_model`` (ChainSession)              ``chain_widget``
the pipeline lab            ``lab_model`` (LabModel)                    ``lab_widget``
==========================  ==========================================  =====================

The lab's widget is split further: ``lab_panel`` (the stage boxes), ``lab_views`` (one class per
view, the tabs built from its ``VIEWS`` table), ``controls`` (a control per declared parameter),
``menu`` (the add menu), ``render`` (charts), ``summaries`` and ``throttle``.
"""

from __future__ import annotations

from genlab.lab.chain_model import ChainSession
from genlab.lab.chain_widget import ChainStepper
from genlab.lab.generator_model import GeneratorSession, Step, parse_value, short_repr
from genlab.lab.generator_widget import GeneratorStepper
from genlab.lab.lab_model import LabModel
from genlab.lab.lab_widget import PipelineLab

__all__ = [
    "ChainSession",
    "ChainStepper",
    "GeneratorSession",
    "GeneratorStepper",
    "LabModel",
    "PipelineLab",
    "Step",
    "parse_value",
    "short_repr",
]
