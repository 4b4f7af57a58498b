"""What a run read and what it had to leave out, with the reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RunReport"]


@dataclass
class RunReport:
    """Counts of one run (an epoch, or whatever a driver ran).

    ``skipped`` lists ``(path, reason)`` for every file a stage dropped; ``ignored`` lists
    files the source did not take (not an image by extension, outside any class folder).
    ``seconds`` runs from the start of the epoch to the last batch delivered, and
    ``first_batch_seconds`` to the first (listing, worker start-up and the first batch's stages).
    """

    batches: int = 0
    samples: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    first_batch_seconds: float | None = None

    @property
    def n_skipped(self) -> int:
        """How many files were skipped."""
        return len(self.skipped)

    def add_batch(self, batch, describe=None, listing=None) -> None:
        """Count one delivered batch (a :class:`~genlab.batch.Batch` or a plain pair).

        ``describe(listing, path, reason)``, when given, rewrites each skip's reason (a table
        source adds the row number).
        """
        self.batches += 1
        self.samples += len(batch[1])
        info = getattr(batch, "info", None)
        if info is not None:
            if describe is None:
                self.skipped.extend(info.skipped)
            else:
                self.skipped.extend(
                    (path, describe(listing, path, reason)) for path, reason in info.skipped
                )

    def merge(self, other: RunReport) -> None:
        """Add another report's counts to this one (a worker's, a shard's)."""
        self.batches += other.batches
        self.samples += other.samples
        self.skipped.extend(other.skipped)
        self.ignored.extend(other.ignored)
        self.seconds += other.seconds
        if self.first_batch_seconds is None:
            self.first_batch_seconds = other.first_batch_seconds

    def summary(self) -> str:
        """One line a person can read: 'read 300 images in 10 batches, skipped 2, ...'."""
        rate = f", {self.samples / self.seconds:.0f} img/s" if self.seconds > 0 else ""
        text = (
            f"{self.samples} images in {self.batches} batches{rate}; "
            f"skipped {self.n_skipped} unreadable, ignored {len(self.ignored)} non-image files"
        )
        for path, reason in self.skipped[:10]:
            text += f"\n  skipped {path}: {reason}"
        if self.n_skipped > 10:
            text += f"\n  ... and {self.n_skipped - 10} more"
        return text
