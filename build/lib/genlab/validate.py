"""Check every file of a dataset once, up front, and list the bad ones with reasons."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .ops.decode import ImageReadError, verify_image
from .sources.discover import DatasetIndex, index_folder
from .sources.storage import read_bytes

__all__ = ["ValidationReport", "check_file", "validate_dataset"]


@dataclass
class ValidationReport:
    """The outcome of :func:`validate_dataset`: how many files were fine, and which were not."""

    root: str
    checked: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file was bad."""
        return not self.bad

    def summary(self) -> str:
        """The counts, then one line per bad or ignored file with its reason."""
        lines = [
            f"{self.root}: {self.checked} files checked, {len(self.bad)} bad, {len(self.ignored)} ignored"
        ]
        lines += [f"  bad {path}: {reason}" for path, reason in self.bad]
        lines += [f"  ignored {path}: {reason}" for path, reason in self.ignored]
        return "\n".join(lines)


def check_file(path: str, max_pixels: int | None = None) -> str | None:
    """The reason ``path`` cannot be used as an image, or None when it decodes fully."""
    try:
        kwargs = {} if max_pixels is None else {"max_pixels": max_pixels}
        verify_image(read_bytes(path), path=path, **kwargs)
    except ImageReadError as e:
        return e.reason
    except OSError as e:
        return f"cannot read: {e}"
    return None


def validate_dataset(
    root: str | DatasetIndex,
    *,
    max_pixels: int | None = None,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> ValidationReport:
    """Decode every image of a class-folder dataset once and report the ones that fail.

    ``progress`` wraps the file iteration (for example ``tqdm.tqdm``).
    """
    index = root if isinstance(root, DatasetIndex) else index_folder(root)
    report = ValidationReport(index.root, ignored=list(index.ignored))
    paths = progress(index.paths) if progress else index.paths
    for path in paths:
        report.checked += 1
        reason = check_file(path, max_pixels)
        if reason is not None:
            report.bad.append((path, reason))
    return report
