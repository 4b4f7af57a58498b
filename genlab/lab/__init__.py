"""Jupyter widgets for genlab: step generators by hand, tune and export image pipelines.

This is the only genlab package that imports ipywidgets and matplotlib; install it with
``pip install "genlab[lab]"``.

- :class:`GeneratorStepper`: ``next``/``send``/``throw``/``close`` buttons on any generator, with
  its state, paused line, locals and history.
- :class:`ChainStepper`: a whole ``GeneratorPipeline`` (or ``Pipeline``) stepped the way its driver
  runs it, one ``send`` at a time, drawn as a diagram of its stages.
- :class:`PipelineLab`: stage toggles and generated controls, a live grid of the batch, the
  memory and time each stage costs, export to a ``Pipeline``, a JSON spec and a Python file.
"""

from __future__ import annotations

from genlab.lab.chain_stepper import ChainStepper
from genlab.lab.chain_stepping import ChainSession
from genlab.lab.model import LabModel
from genlab.lab.pipeline_lab import PipelineLab
from genlab.lab.stepper import GeneratorStepper
from genlab.lab.stepping import GeneratorSession, Step, parse_value, short_repr

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
