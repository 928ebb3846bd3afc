"""GAN networks: shapes, sizes from the config, gradient flow."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from genlab.config import GanConfig
from genlab.gan.engine import build_networks
from genlab.models.gan import Discriminator, Generator, build_discriminator, build_generator


def _linear_shapes(module: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


def test_book_curve_networks() -> None:
    generator, discriminator = build_networks(GanConfig.book(), dim=2)
    assert _linear_shapes(generator) == [(2, 16), (16, 32), (32, 2)]
    assert _linear_shapes(discriminator) == [(2, 256), (256, 128), (128, 64), (64, 1)]
    assert sum(isinstance(m, nn.ReLU) for m in generator.modules()) == 2
    dropouts = [m.p for m in discriminator.modules() if isinstance(m, nn.Dropout)]
    assert dropouts == [0.3, 0.3, 0.3]


def test_book_integer_networks() -> None:
    """The book's multiples-of-5 networks: G Linear(100, 100) + ReLU, D Linear(100, 1)."""
    generator = build_generator(100, 100, hidden=(), out_activation="relu")
    discriminator = build_discriminator(100, hidden=(), dropout=0.0)
    assert _linear_shapes(generator) == [(100, 100)]
    assert isinstance(generator.net[-1], nn.ReLU)
    assert _linear_shapes(discriminator) == [(100, 1)]
    out = generator(torch.randn(10, 100))
    assert out.shape == (10, 100) and bool((out >= 0).all())
    assert discriminator(out).shape == (10, 1)


@pytest.mark.parametrize("dim", [1, 2, 5])
@pytest.mark.parametrize("latent_dim", [1, 2, 16])
def test_shapes_follow_the_data(dim: int, latent_dim: int) -> None:
    generator, discriminator = build_networks(GanConfig(latent_dim=latent_dim), dim)
    samples = generator(torch.randn(7, latent_dim))
    assert samples.shape == (7, dim)
    assert discriminator(samples).shape == (7, 1)
    assert generator.latent_dim == latent_dim and generator.out_dim == dim


def test_default_networks_are_sized_by_the_config() -> None:
    config = GanConfig(g_hidden=(8, 8, 8), d_hidden=(32,), g_activation="elu")
    generator, discriminator = build_networks(config, 3)
    assert _linear_shapes(generator) == [(2, 8), (8, 8), (8, 8), (8, 3)]
    assert _linear_shapes(discriminator) == [(3, 32), (32, 1)]
    assert any(isinstance(m, nn.ELU) for m in generator.modules())
    assert any(isinstance(m, nn.LeakyReLU) for m in discriminator.modules())


def test_every_parameter_gets_a_gradient() -> None:
    generator, discriminator = build_networks(GanConfig(), 2)
    logits = discriminator(generator(torch.randn(64, 2)))
    logits.sum().backward()
    for module in (generator, discriminator):
        for name, param in module.named_parameters():
            assert param.grad is not None, name
            assert bool(torch.isfinite(param.grad).all()), name
            assert float(param.grad.abs().sum()) > 0, name


def test_discriminator_returns_logits_not_probabilities() -> None:
    discriminator = Discriminator(2, (4,), dropout=0.0)
    with torch.no_grad():
        discriminator.net[-1].bias.fill_(10.0)
        assert float(discriminator(torch.zeros(1, 2))) > 1.0  # a logit; sigmoid gives P(real)


def test_softmax_output_lives_on_the_simplex() -> None:
    generator = build_generator(100, 20, hidden=(), out_activation="softmax")
    out = generator(torch.randn(5, 100))
    torch.testing.assert_close(out.sum(dim=1), torch.ones(5))
    assert bool((out > 0).all())


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="positive sizes"):
        Generator(2, 0, (4,))
    with pytest.raises(ValueError, match="unknown activation"):
        Generator(2, 2, (4,), activation="gelu2")
