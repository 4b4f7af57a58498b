"""genlab's stages. Importing this package registers the built-ins."""

from .protocol import GeneratorPipeline, StageError, stage
from .read import read_images
from .rescale import rescale_images
from .shuffle import shuffle_samples
from .trace import trace

__all__ = [
    "GeneratorPipeline",
    "StageError",
    "stage",
    "read_images",
    "rescale_images",
    "shuffle_samples",
    "trace",
]
