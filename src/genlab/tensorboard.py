"""Optional TensorBoard logging (``--tensorboard``): every epoch's figures as scalars and the
run's plots as images. Needs the extra: ``pip install 'genlab[tensorboard]'``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genlab.errors import ConfigError
from genlab.progress import Reporter


class TensorBoardReporter(Reporter):
    """Passes progress on to ``inner`` and writes each epoch's numbers to ``log_dir``."""

    def __init__(self, inner: Reporter, log_dir: str | Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise ConfigError(
                "--tensorboard needs the tensorboard package: pip install 'genlab[tensorboard]'"
            ) from exc
        self.inner = inner
        self.log_dir = Path(log_dir)
        self.writer = SummaryWriter(log_dir=str(self.log_dir))

    def start(self, total: int, description: str = "", initial: int = 0) -> None:
        self.inner.start(total, description, initial)

    def log(self, step: int, row: Mapping[str, Any]) -> None:
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "epoch":
                self.writer.add_scalar(key, value, step)

    def update(self, step: int, values: Mapping[str, Any]) -> None:
        self.inner.update(step, values)

    def message(self, text: str) -> None:
        self.inner.message(text)

    def close(self) -> None:
        self.inner.close()
        self.writer.flush()

    def add_plots(self, run_dir: str | Path) -> int:
        """Add every PNG in ``run_dir/plots`` as an image; return how many."""
        import numpy as np
        from PIL import Image

        count = 0
        for path in sorted(Path(run_dir, "plots").glob("*.png")):
            with Image.open(path) as img:
                pixels = np.asarray(img.convert("RGB"))
            self.writer.add_image(f"plots/{path.stem}", pixels, dataformats="HWC")
            count += 1
        self.writer.flush()
        self.writer.close()
        return count
