"""Where samples come from: class-folder discovery, storage access, the batch source."""

from .dataset import dataset
from .discover import IMAGE_EXTENSIONS, DatasetIndex, discover_images, index_folder

__all__ = ["dataset", "discover_images", "index_folder", "DatasetIndex", "IMAGE_EXTENSIONS"]
