"""Benchmark: the book's Fashion-MNIST pipeline vs genlab, in one run on the same machine.

The book's way (ch. 2.4): a Dataset that turns each image into a PIL image, then ToTensor and
Normalize(0.5, 0.5), per sample (torchvision's transforms if installed, else the same steps
written out); DataLoader batch 64, shuffled; the 784-256-128-64-10 MLP; Adam 1e-3;
EarlyStop(patience=10) on the validation loss (computed without no_grad, as the book does);
test accuracy as a mean of batch accuracies. genlab: `train_classifier` with its defaults.
Like for like: both sides' test accuracy is also counted exactly (correct / 10,000), and since
genlab restores the weights of its best validation loss, the book's side is reported both as
the book keeps it (its last epoch) and with the weights of its best validation loss.

The redesign's cost: ``engine_vs_bare_epoch`` is one epoch of genlab's engine (training pass +
validation pass, through the callback loop) at batch 64 / lr 1e-3 divided by the same work
written as a bare loop over the same tensors with the same model and optimizer.

Prints one JSON line and writes it to bench/results/classifier.json (not with --quick): seconds
of one training pass at the book's settings (batch 64) for both, whole-run seconds (train to
early stop + test; genlab with its own defaults), accuracies and the speed ratios.

    python bench/classifier.py            # whole runs (~6 min here)
    python bench/classifier.py --quick    # one timed epoch each (~30 s)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _results import emit
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset

from genlab.classify.engine import train_classifier, train_epoch
from genlab.config import ClassifierConfig
from genlab.data.fashion_mnist import find_data_dir, load_classification_data, load_split
from genlab.models.classifiers import MLPClassifier
from genlab.training.loop import make_adam


def book_transform():
    """ToTensor + Normalize(0.5, 0.5): torchvision's when it is installed, else the same
    steps written out as torchvision 0.2x runs them per image (PIL -> uint8 array copy ->
    tensor view/permute -> float / 255; then Normalize's argument checks, clone, mean/std
    tensors, zero-std check, sub_/div_), composed the same way."""
    try:
        import torchvision.transforms as T

        return T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]), "torchvision"
    except Exception:  # torchvision absent (genlab does not depend on it)
        pass

    def to_tensor(pic: Image.Image) -> torch.Tensor:
        if not isinstance(pic, Image.Image):
            raise TypeError("pic should be PIL Image")
        img = torch.from_numpy(np.array(pic, np.uint8, copy=True))
        img = img.view(pic.size[1], pic.size[0], len(pic.getbands()))
        img = img.permute((2, 0, 1)).contiguous()
        return img.to(dtype=torch.get_default_dtype()).div(255)

    def normalize(tensor: torch.Tensor, mean=(0.5,), std=(0.5,)) -> torch.Tensor:
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise TypeError("Input tensor should be a float tensor")
        if tensor.ndim < 3:
            raise ValueError("Expected tensor to be a tensor image")
        tensor = tensor.clone()
        mean_t = torch.as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
        std_t = torch.as_tensor(std, dtype=tensor.dtype, device=tensor.device)
        if (std_t == 0).any():
            raise ValueError("std evaluated to zero")
        if mean_t.ndim == 1:
            mean_t = mean_t.view(-1, 1, 1)
        if std_t.ndim == 1:
            std_t = std_t.view(-1, 1, 1)
        return tensor.sub_(mean_t).div_(std_t)

    transforms = [to_tensor, normalize]

    def compose(img: Image.Image) -> torch.Tensor:
        for t in transforms:
            img = t(img)
        return img

    return compose, "written out (torchvision's steps)"


class PILDataset(Dataset):
    """Like torchvision's FashionMNIST: uint8 array -> PIL image -> transform, per sample."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        img, target = self.images[i], int(self.labels[i])  # as torchvision's FashionMNIST
        img = Image.fromarray(img.numpy(), mode="L")
        return self.transform(img), target


def book_run(max_epochs: int, seed: int = 42) -> dict:
    """The book's 10-class training, early stopping and test evaluation."""
    folder = find_data_dir()
    images, labels = load_split(folder, "train")
    test_images, test_labels = load_split(folder, "test")
    transform, which = book_transform()
    torch.manual_seed(seed)
    full = PILDataset(images, labels, transform)
    train_set, val_set = torch.utils.data.random_split(full, [50000, 10000])
    test_set = PILDataset(test_images, test_labels, transform)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=64, shuffle=True)
    model = MLPClassifier((784, 256, 128, 64, 10))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    steps, min_loss, epoch_times, best_state = 0, float("inf"), [], None
    started = time.perf_counter()
    epochs = 0
    for _ in range(max_epochs):
        epochs += 1
        t0 = time.perf_counter()
        tloss = 0.0
        for imgs, labs in train_loader:
            preds = model(imgs.reshape(-1, 784))
            loss = loss_fn(preds, labs)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            tloss += loss.detach()
        epoch_times.append(time.perf_counter() - t0)
        vloss, batches = 0.0, 0
        for imgs, labs in val_loader:  # the book: no no_grad, no eval()
            vloss += loss_fn(model(imgs.reshape(-1, 784)), labs)
            batches += 1
        vloss = float(vloss.detach() / (batches - 1))  # the book divides by the last batch index
        if vloss < min_loss:
            min_loss, steps = vloss, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            steps += 1
        if steps >= 10:
            break
    accs = []
    for imgs, labs in test_loader:
        preds = torch.argmax(model(imgs.reshape(-1, 784)), dim=1)
        accs.append((preds == labs).float().mean().item())
    run_seconds = time.perf_counter() - started
    last_exact = exact_accuracy(model, test_set)
    model.load_state_dict(best_state)
    return {
        "transforms": which,
        "epochs": epochs,
        "train_epoch_seconds": min(epoch_times),
        "run_seconds": run_seconds,
        "test_accuracy": float(np.mean(accs)),
        "test_accuracy_exact": last_exact,
        "best_val_test_accuracy_exact": exact_accuracy(model, test_set),
    }


@torch.no_grad()
def exact_accuracy(model: nn.Module, test_set: Dataset) -> float:
    """Correct / all on the test set (the book's per-sample pipeline, in order)."""
    correct = 0
    for imgs, labs in DataLoader(test_set, batch_size=1000):
        correct += int((model(imgs.reshape(-1, 784)).argmax(dim=1) == labs).sum())
    return correct / len(test_set)


def bare_epoch_batch64(epochs: int = 2) -> float:
    """Seconds of one bare epoch at batch 64 / lr 1e-3: a shuffled pass of index slices over
    the training tensors and a validation pass, with genlab's model and optimizer, no engine."""
    data = load_classification_data("multiclass", None, 42)
    torch.manual_seed(42)
    model = MLPClassifier((784, 256, 128, 64, 10))
    optimizer = make_adam(model.parameters(), 1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(43)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(data.train_x.shape[0], generator=generator)
        for start in range(0, order.numel(), 64):
            idx = order[start : start + 64]
            loss = loss_fn(model(data.train_x[idx]), data.train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for start in range(0, data.val_x.shape[0], 1000):
                loss_fn(model(data.val_x[start : start + 1000]), data.val_y[start : start + 1000])
        times.append(time.perf_counter() - t0)
    return min(times)


def engine_epoch_batch64(epochs: int = 2) -> float:
    """Seconds of one epoch of genlab's engine at batch 64 / lr 1e-3 (training and
    validation passes, callbacks), no run folder."""
    config = ClassifierConfig(epochs=epochs, batch_size=64, lr=1e-3, lr_decay=0, patience=None)
    run = train_classifier(config, plots=False)
    seconds = [row["seconds"] for row in run.history]
    return min(b - a for a, b in zip([0.0, *seconds], seconds, strict=False))


def genlab_epoch_at_book_settings(epochs: int = 2) -> float:
    """Seconds of one genlab training pass at the book's settings (batch 64, lr 1e-3)."""
    data = load_classification_data("multiclass", None, 42)
    torch.manual_seed(42)
    model = MLPClassifier((784, 256, 128, 64, 10))
    optimizer = make_adam(model.parameters(), 1e-3)
    generator = torch.Generator().manual_seed(43)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        train_epoch(
            model,
            data.train_x,
            data.train_y,
            "multiclass",
            nn.CrossEntropyLoss(),
            optimizer,
            64,
            generator,
        )
        times.append(time.perf_counter() - t0)
    return min(times)


def genlab_run(max_epochs: int) -> dict:
    """genlab's default 10-class run (data loading included in the whole-run time)."""
    started = time.perf_counter()
    run = train_classifier(ClassifierConfig(epochs=max_epochs, device="cpu"), plots=False)
    return {
        "epochs": run.summary["epochs_run"],
        "best_epoch": run.summary["best_epoch"],
        "stopped_early": run.summary["stopped_early"],
        "run_seconds": time.perf_counter() - started,
        "test_accuracy": run.summary["test_accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one epoch each, no whole runs")
    args = parser.parse_args()
    epochs = 1 if args.quick else 100
    book = book_run(epochs)
    ours = genlab_run(epochs)
    ours["train_epoch_seconds_batch64"] = genlab_epoch_at_book_settings()
    bare = bare_epoch_batch64()
    engine = engine_epoch_batch64()
    emit(
        __file__,
        {
            "bench": "classifier",
            "quick": args.quick,
            "threads": torch.get_num_threads(),
            "book": book,
            "genlab": ours,
            "epoch_speedup_batch64": round(
                book["train_epoch_seconds"] / ours["train_epoch_seconds_batch64"], 2
            ),
            "run_speedup": round(book["run_seconds"] / ours["run_seconds"], 2),
            "bare_epoch_seconds_batch64": round(bare, 3),
            "engine_epoch_seconds_batch64": round(engine, 3),
            "engine_vs_bare_epoch": round(engine / bare, 3),
        },
    )


if __name__ == "__main__":
    main()
