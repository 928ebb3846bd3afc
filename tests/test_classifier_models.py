"""Classifier modules: shapes, gradient flow, dropout placement."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from genlab.models.classifiers import MLPClassifier, build_classifier


@pytest.mark.parametrize(
    "model,task,n_out",
    [
        ("mlp", "multiclass", 10),
        ("mlp", "binary", 1),
        ("cnn", "multiclass", 10),
        ("cnn", "binary", 1),
    ],
)
def test_shapes_and_every_parameter_gets_a_gradient(model: str, task: str, n_out: int) -> None:
    net = build_classifier(model, task)
    out = net(torch.randn(4, 1, 28, 28))
    assert out.shape == (4, n_out)
    out.sum().backward()
    for name, param in net.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_book_sizes() -> None:
    widths = [
        m.out_features
        for m in build_classifier("mlp", "multiclass").modules()
        if isinstance(m, nn.Linear)
    ]
    assert widths == [256, 128, 64, 10]
    widths = [
        m.out_features
        for m in build_classifier("mlp", "binary").modules()
        if isinstance(m, nn.Linear)
    ]
    assert widths == [256, 128, 32, 1]


def test_binary_dropout_only_between_hidden_layers() -> None:
    layers = list(build_classifier("mlp", "binary").net)
    assert isinstance(layers[-1], nn.Linear)  # nothing after the output layer
    assert sum(isinstance(m, nn.Dropout) for m in layers) == 3  # after each hidden ReLU
    assert not any(isinstance(m, nn.Dropout) for m in MLPClassifier(dropout=0.0).net)


def test_eval_mode_is_deterministic() -> None:
    net = build_classifier("mlp", "binary").eval()
    x = torch.randn(8, 784)
    assert torch.equal(net(x), net(x))
