"""The book's chapter-4 Fashion-MNIST GAN loop, run faithfully, resumable epoch by epoch.

``bench/image_gan.py`` scores what this trains; this file only trains (it is long: about
1.5-2 minutes per epoch on this 2-core CPU, 50 epochs). As the book's notebook does it:

* data: a per-sample ``Dataset`` that turns each uint8 28x28 image into a PIL image, then
  ``ToTensor()`` (to [0, 1]) and ``Normalize([0.5], [0.5])`` (to [-1, 1]), written out here
  because genlab does not depend on torchvision (the same arithmetic); ``DataLoader`` batch
  32, shuffled, in the main process;
* D: 784-1024-512-256-1, ReLU and Dropout(0.3) after each hidden layer, Sigmoid (the
  notebook's D uses ReLU, not the LeakyReLU(0.2) an early summary of it gave);
  G: 100-256-512-1024-784, ReLU, Tanh; ``nn.BCELoss``; Adam lr 1e-4 for both (default betas);
* per batch: a D step on the real batch (label 1), a D step on ``G(randn(32, 100))`` (label
  0), a G step on fresh noise (label 1); 50 epochs.

After every epoch the generator's weights go to ``CACHE/generator-EPOCH.pt`` (the scorer
picks the last one, as the book keeps, and the best one on the validation images, as genlab
does) and a checkpoint (both networks, both optimisers, the random state) to
``CACHE/checkpoint.pt``; run it again and it goes on from there, ending where one
uninterrupted run would. ``CACHE/times.json`` holds each epoch's seconds.

    python bench/image_gan_book.py --threads 1            # train (or go on) to 50 epochs
    python bench/image_gan_book.py --epochs 1 --limit 50  # smoke run: 50 batches

Source: markhliu/DGAI ch05ImageGan.ipynb (commit 16a71ef4), cells 2-13 (the book's
chapter-4 listings). The notebook sets no seed; this run seeds torch with 0.

The bench's book side trains on the GAN's train part (genlab.gan.images.split_train): the
same 55,000 training images genlab's GAN sees; 5,000 are held out as the validation part.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

CACHE = Path(os.environ.get("GENLAB_BENCH_CACHE", Path(__file__).resolve().parent / "cache"))
BOOK_DIR = CACHE / "image_gan_book"
EPOCHS = 50
BATCH = 32
LATENT = 100
SEED = 0


class PilFashion(torch.utils.data.Dataset):
    """uint8 images (N, 28, 28) -> per sample: PIL image, ToTensor, Normalize(0.5, 0.5)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        picture = Image.fromarray(self.images[i], mode="L")
        # ToTensor: HxW uint8 -> 1xHxW float in [0, 1]
        tensor = torch.from_numpy(np.array(picture, dtype=np.uint8)).float().div(255).unsqueeze(0)
        return (tensor - 0.5) / 0.5, int(self.labels[i])  # Normalize([0.5], [0.5])


def book_discriminator() -> nn.Module:
    """The book's D: 784-1024-512-256-1, ReLU, Dropout(0.3), Sigmoid."""
    return nn.Sequential(
        nn.Linear(784, 1024), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(1024, 512), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(256, 1), nn.Sigmoid(),
    )  # fmt: skip


def book_generator() -> nn.Module:
    """The book's G: 100-256-512-1024-784, ReLU, Tanh."""
    return nn.Sequential(
        nn.Linear(LATENT, 256), nn.ReLU(),
        nn.Linear(256, 512), nn.ReLU(),
        nn.Linear(512, 1024), nn.ReLU(),
        nn.Linear(1024, 784), nn.Tanh(),
    )  # fmt: skip


def train(epochs: int, limit: int | None, folder: Path) -> dict:
    from genlab.gan.images import split_train

    folder.mkdir(parents=True, exist_ok=True)
    images, labels = split_train(None)  # the GAN's train part (55,000 images)
    loader = torch.utils.data.DataLoader(
        PilFashion(images.numpy(), labels.numpy()), batch_size=BATCH, shuffle=True
    )
    torch.manual_seed(SEED)
    D, G = book_discriminator(), book_generator()
    loss_fn = nn.BCELoss()
    optim_d = torch.optim.Adam(D.parameters(), lr=1e-4)
    optim_g = torch.optim.Adam(G.parameters(), lr=1e-4)
    times_file, checkpoint = folder / "times.json", folder / "checkpoint.pt"
    times: list[float] = []
    start = 0
    if checkpoint.exists() and limit is None:
        state = torch.load(checkpoint, weights_only=False)
        D.load_state_dict(state["D"])
        G.load_state_dict(state["G"])
        optim_d.load_state_dict(state["optim_d"])
        optim_g.load_state_dict(state["optim_g"])
        torch.set_rng_state(state["rng"])
        start, times = state["epoch"], state["times"]
        print(f"resuming after epoch {start}", flush=True)

    def train_d_on_real(real: torch.Tensor) -> float:
        real = real.reshape(-1, 784)
        loss = loss_fn(D(real), torch.ones((real.shape[0], 1)))
        optim_d.zero_grad()
        loss.backward()
        optim_d.step()
        return loss.item()

    def train_d_on_fake() -> float:
        fake = G(torch.randn((BATCH, LATENT)))
        loss = loss_fn(D(fake), torch.zeros((BATCH, 1)))
        optim_d.zero_grad()
        loss.backward()
        optim_d.step()
        return loss.item()

    def train_g() -> float:
        fake = G(torch.randn((BATCH, LATENT)))
        loss = loss_fn(D(fake), torch.ones((BATCH, 1)))
        optim_g.zero_grad()
        loss.backward()
        optim_g.step()
        return loss.item()

    for epoch in range(start + 1, epochs + 1):
        G.train()
        D.train()
        began = time.perf_counter()
        g_total = d_total = 0.0
        for n, (real, _) in enumerate(loader):
            d_total += train_d_on_real(real) + train_d_on_fake()
            g_total += train_g()
            if limit is not None and n + 1 >= limit:
                break
        seconds = time.perf_counter() - began
        times.append(seconds)
        print(
            f"epoch {epoch}: {seconds:.1f} s, d_loss {d_total / (n + 1):.3f}, "
            f"g_loss {g_total / (n + 1):.3f}",
            flush=True,
        )
        if limit is not None:
            continue
        torch.save(G.state_dict(), folder / f"generator-{epoch:03d}.pt")
        state = {
            "D": D.state_dict(),
            "G": G.state_dict(),
            "optim_d": optim_d.state_dict(),
            "optim_g": optim_g.state_dict(),
            "rng": torch.get_rng_state(),
            "epoch": epoch,
            "times": times,
        }
        torch.save(state, folder / "checkpoint.tmp")
        os.replace(folder / "checkpoint.tmp", checkpoint)
        times_file.write_text(
            json.dumps({"epoch_seconds": times, "threads": torch.get_num_threads()})
        )
    return {"epoch_seconds": times, "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's)")
    parser.add_argument("--limit", type=int, help="batches per epoch (smoke run; not saved)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train(args.epochs, args.limit, BOOK_DIR)


if __name__ == "__main__":
    main()
