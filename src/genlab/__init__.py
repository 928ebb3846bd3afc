"""genlab: Fashion-MNIST classifiers and small GANs, from the shell and from Python."""

__version__ = "0.1.0"
