"""Chapter 2.4 of the book, step by step with genlab: Fashion-MNIST classifiers.

Each step names the book's listing it follows. Run it whole (a few minutes on a CPU) or with
--smoke (one epoch, for CI):

    python examples/ch2_fashion_mnist.py [--smoke] [--data-dir DIR]
"""

from __future__ import annotations

import argparse

import torch

import genlab
from genlab.classify.engine import evaluate, logits_to_labels, predict_logits
from genlab.data.fashion_mnist import CLASS_NAMES, load_classification_data
from genlab.models.classifiers import build_classifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="one epoch of each, for CI")
    parser.add_argument("--data-dir", help="folder with the four Fashion-MNIST IDX files")
    args = parser.parse_args()
    epochs = 1 if args.smoke else 100

    # Data (the book: FashionMNIST + ToTensor + Normalize(0.5, 0.5), random_split 50,000/10,000
    # after torch.manual_seed(42)). genlab keeps every split in one tensor, pixels in [-1, 1].
    data = load_classification_data("multiclass", args.data_dir, seed=42)
    print("train/val/test:", len(data.train_y), len(data.val_y), len(data.test_y))
    print("pixel range:", float(data.train_x.min()), float(data.train_x.max()))

    # The model (the book's nn.Sequential 784-256-128-64-10 with ReLU).
    print(build_classifier("mlp", "multiclass"))

    # Training with early stopping (the book's EarlyStop(patience=10) on validation loss);
    # genlab also restores the best weights at the end.
    run = genlab.classify.train("multiclass", epochs=epochs, data_dir=args.data_dir, quiet=True)
    print(
        f"epochs run {run.summary['epochs_run']}, best epoch {run.summary['best_epoch']}, "
        f"stopped early: {run.summary['stopped_early']}"
    )

    # Prediction (the book: argmax of the logits), then "label is ...; prediction is ...".
    for i in range(5):
        label = CLASS_NAMES[int(data.test_y[i])]
        predicted = CLASS_NAMES[int(run.predict(data.test_x[i : i + 1])[0])]
        print(f"label is {label}; prediction is {predicted}")

    # Accuracy on the 10,000 test images: counted exactly, not as a mean of batch means.
    print(f"test accuracy {run.test_accuracy:.4f} (the book: 0.8820)")

    # The binary task (T-shirt vs ankle boot) with the book's cutoff: p > 0.5 -> class 1.
    binary = genlab.classify.train(
        "binary", epochs=min(epochs, 50), data_dir=args.data_dir, quiet=True
    )
    bdata = load_classification_data("binary", args.data_dir, seed=42)
    p = torch.sigmoid(predict_logits(binary.model, bdata.test_x[:8]).squeeze(1))
    print("probabilities:", [round(v, 3) for v in p.tolist()])
    print(
        "labels (p > 0.5):",
        logits_to_labels(predict_logits(binary.model, bdata.test_x[:8]), "binary").tolist(),
    )
    figures = evaluate(binary.model, bdata.test_x, bdata.test_y, "binary")
    print(f"binary test accuracy {figures['accuracy']:.4f} (the book: 0.8784)")


if __name__ == "__main__":
    main()
