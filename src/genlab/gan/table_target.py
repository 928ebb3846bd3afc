"""The table GAN's target model: the target column drawn given the row's other columns.

A GAN learns a row's columns jointly, and a column's dependence on the others comes out
blurred: on diamonds a model fitted on generated rows predicted the real test part's price
with R² 0.93, against 0.98 from the real rows. The target model is a classifier fitted by
likelihood, after training, on the train part's rows: from a row's other columns (in model
space) it gives the target's distribution, over :data:`BINS` bins of its model-space value
(a number) or over its levels (a category): the mean of :data:`MEMBERS` heads' probabilities,
each head fitted from its own seed. Sampling, the generator's row keeps its other
columns, and its target is drawn from that distribution: the bin by its probability, then
the value uniformly within the bin's share of the train part's CDF (the codec decodes that
into the train part's values). A row whose target is empty (the generator decides that) or
revealed (``where``) keeps it.

Each number goes in as a piecewise-linear encoding of its CDF level (:data:`PIECES` pieces
of equal share; Gorishniy et al. 2022, "On Embeddings for Numerical Features in Tabular Deep
Learning"): a plain MLP fitted on gss_wages' real rows predicted income with R² 0.22, with
the encoding 0.26 (the gradient-boosted trees of the ML-efficacy figure: 0.30).

A number target has a second draw, the *located* one: the model's mean given the row (each
bin's mean train value, weighted by the bin's probability) plus a residual drawn from the
train rows' residual quantiles, clipped to the column's range, and not calibrated: with
:data:`GROUPS` 1 its spread does not depend on the row. On gss_wages' income, whose rare,
huge top-coded values the bins' draws put at rows where real ones are not, trees fitted on
located draws predict real rows better (``python bench/table_target_probe.py``: 0.275
against 0.249, real rows 0.282); on diamonds' price, whose spread grows with the price, the
bins keep the target's shape and pairs better. A run takes the located draw only when it
scores clearly better on the validation part
(:meth:`genlab.gan.table.TableGanData._choose_target_draw`).

The draw is a function of the noise, so the same noise gives the same row, and the model
exports with the generator: its two uniforms are the fractional parts of two projections of
the noise, scaled by :data:`SPREAD`, nearly independent of the row (a smooth function of the
noise). Its weights are a classifier's, its bins fixed normal quantiles; the located draw
keeps means and quantiles of several rows each (:meth:`TargetModel.locate_from`): no row is
stored.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genlab.data.table import MIN_LEVEL_ROWS, ROWS_PER_KNOT, knot_level, knot_value
from genlab.gan.monotone import normal_quantiles, piecewise_linear, quantile_knots
from genlab.models.gan import mlp
from genlab.training.early_stopping import fit_with_stopping

#: Bins of a number target's model-space value: equal widths over [-RANGE, RANGE], the end
#: bins open (finer at the tails than bins of equal share: gss_wages' top-coded incomes).
BINS = 128
RANGE = 4.0
#: Pieces of each number's encoding (see the module docstring).
PIECES = 64
HIDDEN = (256, 256)
#: At most this many train rows teach the model (and a quarter as many validation rows
#: judge it; with 200,000 the million-row bench's whole command took 1,035 seconds, 456
#: before the target model: past its 15-minute target); its batch, learning rate and epochs at most
#: (it stops when its loss on the validation part has not fallen for PATIENCE epochs; the
#: best is kept).
ROWS = 50_000
BATCH = 512
LR = 1e-3
EPOCHS = 100
PATIENCE = 5
#: Heads fitted from different seeds (each stopping on the validation part) whose bin or
#: level probabilities are averaged. On gss_wages' income one head's mean given the row
#: predicted the validation part with R² from 0.25 to 0.33 by seed (its best validation
#: loss did not tell which); the average of four, 0.32 (see docs/table.md).
MEMBERS = 4
#: The seeds of the heads after the first: the model's seed plus multiples of this.
MEMBER_SEED_STEP = 104_729
#: Standard deviation of the normal noise added to the model-space rows the model learns
#: from (fresh each batch; the labels from the rows as they are).
NOISE = 0.0
#: The scale of the noise projections whose fractional parts are the draw's uniforms.
SPREAD = 1000.0
EPS = 1e-6
#: Quantile levels of the located draw's residuals (:meth:`TargetModel.locate_from`).
RESIDUAL_LEVELS = 1000
#: The located draw's residuals are read per group of rows of about equal mean (this many
#: groups of equal share; 1: one spread for every row). bench/table_target_probe.py on
#: gss_wages: 1 group 0.273 (quality 0.972), 4 groups 0.263, 10 groups 0.261 (0.976).
GROUPS = 1
#: Iterations of a category target's level bias (:func:`calibrate_target`), and its bound.
BIAS_STEPS = 100
MAX_BIAS = 30.0


class TargetModel(nn.Module):
    """Model-space rows ``(B, dim)`` -> the same rows with the target redrawn (see the module
    docstring). ``start``, ``width``: the target's model-space dims; ``numeric``: a number
    (its value at ``start``, its present flag at ``start + 1`` if ``gated``) or a category
    (a one-hot of ``width``); ``values``: every number's value dim; ``knots``: a number
    target's quantile knots (the codec's: its values <-> model space, for the located draw)."""

    edges: torch.Tensor
    directions: torch.Tensor
    knots: torch.Tensor

    def __init__(
        self,
        dim: int,
        latent_dim: int,
        start: int,
        width: int,
        numeric: bool,
        gated: bool,
        values: list[int],
        knots: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.dim, self.start, self.width = int(dim), int(start), int(width)
        self.numeric, self.gated = bool(numeric), bool(gated)
        values = [v for v in values if v != start]
        others = torch.ones(self.dim, dtype=torch.bool)
        others[values] = False
        others[start : start + width] = False
        self.register_buffer("value_dims", torch.tensor(values, dtype=torch.long), persistent=False)
        self.register_buffer("other_dims", torch.nonzero(others).squeeze(1), persistent=False)
        steps = (torch.arange(PIECES, dtype=torch.float32) / PIECES).unsqueeze(0)  # (1, P)
        self.register_buffer("steps", steps, persistent=False)
        inputs = len(values) * PIECES + int(others.sum())
        self.outputs = BINS if numeric else self.width
        self.head = mlp((max(inputs, 1), *HIDDEN, self.outputs), "relu")
        self.more_heads = nn.ModuleList(
            mlp((max(inputs, 1), *HIDDEN, self.outputs), "relu") for _ in range(MEMBERS - 1)
        )
        self.requires_grad_(False)  # fitted after training only (DDP skips it)
        # a number's bins as CDF levels: the normal's at equal widths of model space
        inner = torch.special.ndtr(torch.linspace(-RANGE, RANGE, BINS + 1, dtype=torch.float64))
        inner[0], inner[-1] = 0.0, 1.0
        self.register_buffer("edges", inner, persistent=False)
        seeded = torch.Generator().manual_seed(1)
        square = torch.randn(latent_dim, latent_dim, generator=seeded, dtype=torch.float64)
        self.register_buffer("directions", torch.linalg.qr(square).Q[:, :2].contiguous(),
                             persistent=False)  # fmt: skip
        # the drawn targets' calibration (:func:`calibrate_target`; identity, none before)
        identity = normal_quantiles()
        self.register_buffer("value_from", identity.clone())
        self.register_buffer("value_to", identity.clone())
        self.register_buffer("level_bias", torch.zeros(self.outputs))
        # the located draw (:meth:`locate_from`): each bin's mean value, the residuals'
        # quantiles, and whether it is the draw (saved; a plain flag for torch.export)
        known = knots is not None and self.numeric
        knots = knots.double().clone() if known else torch.zeros(2, dtype=torch.float64)
        self.register_buffer("knots", knots, persistent=False)  # the codec's, not saved
        self.register_buffer("bin_mean", torch.zeros(self.outputs, dtype=torch.float64))
        shape = (GROUPS, RESIDUAL_LEVELS + 1)
        self.register_buffer("residual", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("group_edges", torch.zeros(GROUPS - 1, dtype=torch.float64))
        self.register_buffer("located", torch.zeros(()))
        self.locate = False

    def features(self, rows: torch.Tensor) -> torch.Tensor:
        """The head's input: each other number's CDF level in :data:`PIECES` pieces, then the
        other columns' flags and one-hots (the target's dims left out)."""
        parts = []
        if self.value_dims.numel():
            level = torch.special.ndtr(rows[:, self.value_dims]).unsqueeze(2)  # (B, C, 1)
            pieces = ((level - self.steps) * PIECES).clamp(0.0, 1.0)  # (B, C, P)
            parts.append(pieces.reshape(rows.shape[0], -1))
        parts.append(rows[:, self.other_dims])
        out = torch.cat(parts, dim=1)
        return out if out.shape[1] else torch.zeros(rows.shape[0], 1, device=rows.device)

    def heads(self) -> list[nn.Module]:
        """The heads whose probabilities :meth:`logits` averages (see :data:`MEMBERS`)."""
        return [self.head, *self.more_heads]

    def logits(self, rows: torch.Tensor) -> torch.Tensor:
        """(B, outputs): the log of the heads' mean probabilities of each bin or level of
        model-space ``rows`` (before the level bias)."""
        return self.logits_of(self.features(rows))

    def logits_of(self, features: torch.Tensor) -> torch.Tensor:
        """:meth:`logits` from the rows' :meth:`features`."""
        if not len(self.more_heads):
            return self.head(features)
        each = torch.stack([torch.log_softmax(head(features), dim=1) for head in self.heads()])
        return torch.logsumexp(each, dim=0) - math.log(each.shape[0])

    def labels(self, rows: torch.Tensor) -> torch.Tensor:
        """The target's bin (a number) or level (a category) of model-space rows."""
        if not self.numeric:
            return rows[:, self.start : self.start + self.width].argmax(dim=1)
        inner = torch.linspace(-RANGE, RANGE, BINS + 1, device=rows.device)[1:-1]
        return torch.bucketize(rows[:, self.start].contiguous(), inner)

    def present(self, rows: torch.Tensor) -> torch.Tensor:
        """(B,) bool: rows whose target has a value (a number's present flag)."""
        if self.numeric and self.gated:
            return rows[:, self.start + 1] > 0.5
        return torch.ones(rows.shape[0], dtype=torch.bool, device=rows.device)

    def bin_value(self, bins: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
        """A number target's model-space value (float64) at ``uniform`` (in [0, 1]) of the
        way through each bin's share of the CDF (before the draws' calibration)."""
        low, high = self.edges[bins], self.edges[bins + 1]
        return torch.special.ndtri((low + uniform * (high - low)).clamp(EPS, 1 - EPS))

    def mean_value(self, rows: torch.Tensor) -> torch.Tensor:
        """(B,) float64: a number target's expected value given the rows' other columns, in
        its own units (each bin's mean value, weighted by its probability)."""
        return torch.softmax(self.logits(rows), dim=1).double() @ self.bin_mean

    def located_value(self, probs: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
        """The located draw's model-space value (float64) of rows whose bins have ``probs``
        (B, BINS): their mean value (as :meth:`mean_value`) plus the residual at ``uniform``
        (in [0, 1]) of its quantiles, clipped to the column's range."""
        mean = probs @ self.bin_mean
        residual = self.residual[torch.bucketize(mean, self.group_edges)]  # (B, levels)
        position = (uniform * RESIDUAL_LEVELS).unsqueeze(1)
        lower = position.floor().clamp(0, RESIDUAL_LEVELS - 1)
        index = lower.long()
        low, high = residual.gather(1, index), residual.gather(1, index + 1)
        value = mean + (low + (position - lower) * (high - low)).squeeze(1)
        value = value.clamp(self.knots[0], self.knots[-1]).contiguous()
        level = knot_level(self.knots, value, torch.full_like(value, 0.5))
        return torch.special.ndtri(level.clamp(EPS, 1 - EPS))

    def forward(self, rows: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        logits = self.logits(rows) + self.level_bias
        probs = torch.softmax(logits, dim=1).double()  # (B, K)
        spread = (noise.double() @ self.directions) * SPREAD  # (B, 2)
        uniform = spread - torch.floor(spread)
        cdf = probs.cumsum(dim=1)
        pick = (cdf < uniform[:, :1] * cdf[:, -1:]).sum(dim=1).clamp_max(self.outputs - 1)
        at = torch.arange(self.dim, device=rows.device)
        if self.numeric:
            if self.locate:
                value = self.located_value(probs, uniform[:, 1]).to(rows.dtype).unsqueeze(0)
            else:
                value = self.bin_value(pick, uniform[:, 1]).to(rows.dtype).unsqueeze(0)
            value = piecewise_linear(value, self.value_from, self.value_to).squeeze(0)
            if self.gated:  # an empty target stays empty (its value 0)
                value = value * (rows[:, self.start + 1] > 0.5).to(rows.dtype)
            return torch.where(at == self.start, value.unsqueeze(1), rows)
        one_hot = nn.functional.one_hot(pick, self.width).to(rows.dtype)  # (B, width)
        inside = (at >= self.start) & (at < self.start + self.width)
        padded = torch.zeros_like(rows)
        padded[:, self.start : self.start + self.width] = one_hot
        return torch.where(inside, padded, rows)

    @torch.no_grad()
    def locate_from(self, real: torch.Tensor) -> None:
        """Fill the located draw's summaries from model-space ``real`` rows (the train part,
        the fitted head's own): each bin's mean value (a bin of fewer than
        :data:`~genlab.data.table.MIN_LEVEL_ROWS` rows: its middle's value) and
        :data:`RESIDUAL_LEVELS` + 1 quantiles of the rows' residuals (value minus
        :meth:`mean_value`; read at most one level per
        :data:`~genlab.data.table.ROWS_PER_KNOT` rows, as the codec's knots, and
        interpolated between). Means and quantiles of several rows each: no row."""
        real = real[self.present(real)]
        if not self.numeric or real.shape[0] < 2:
            return
        values = knot_value(self.knots, real[:, self.start])
        label = self.labels(real)
        counts = torch.bincount(label, minlength=self.outputs).double()
        sums = torch.zeros(self.outputs, dtype=torch.float64).index_add_(0, label, values)
        half = torch.full((self.outputs,), 0.5, dtype=torch.float64)
        middle = knot_value(self.knots, self.bin_value(torch.arange(self.outputs), half))
        many = counts >= MIN_LEVEL_ROWS
        self.bin_mean.copy_(torch.where(many, sums / counts.clamp_min(1), middle))
        mean = self.mean_value(real)
        shares = torch.linspace(0, 1, self.residual.shape[0] + 1, dtype=torch.float64)
        self.group_edges.copy_(torch.quantile(mean, shares[1:-1]))
        group = torch.bucketize(mean, self.group_edges)
        wanted = torch.linspace(0, 1, RESIDUAL_LEVELS + 1, dtype=torch.float64).unsqueeze(0)
        for g in range(self.residual.shape[0]):
            residuals = (values - mean)[group == g]
            if residuals.numel() == 0:  # (tied means): every row's
                residuals = values - mean
            read = max(1, min(RESIDUAL_LEVELS, residuals.numel() // ROWS_PER_KNOT))
            levels = torch.linspace(0, 1, read + 1, dtype=torch.float64).unsqueeze(0)
            quantiles = torch.quantile(residuals, levels[0]).unsqueeze(0)
            self.residual[g] = piecewise_linear(wanted, levels, quantiles)[0]

    def use_located(self, on: bool) -> None:
        """Draw a number target the located way (``on``) or from its bins."""
        self.locate = bool(on) and self.numeric
        self.located.fill_(float(self.locate))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: object) -> None:
        # a model file from before the located draw: the bins' draw
        for name in ("bin_mean", "residual", "group_edges", "located"):
            state_dict.setdefault(prefix + name, getattr(self, name))
        if not any(key.startswith(prefix + "more_heads.") for key in state_dict):
            self.more_heads = nn.ModuleList()  # a model file from before the ensemble: one head
        super()._load_from_state_dict(state_dict, prefix, *args)
        self.locate = self.numeric and bool(state_dict[prefix + "located"] > 0)


@torch.no_grad()
def fit_target_model(
    model: TargetModel, real: torch.Tensor, validation: torch.Tensor, seed: int
) -> dict[str, float]:
    """Fit each of ``model``'s heads (:data:`MEMBERS`, from seeds ``seed``, ``seed +``
    :data:`MEMBER_SEED_STEP`, ...) by cross-entropy on ``real`` model-space rows (the train
    part; those with a target value), each stopping on its loss on ``validation`` (the
    validation part), then a number target's located draw (:meth:`TargetModel.locate_from`,
    the same rows). Returns the heads' mean epochs and the averaged model's validation loss."""
    seeded = torch.Generator().manual_seed(seed)
    real = real[model.present(real)]
    validation = validation[model.present(validation)]
    if real.shape[0] > ROWS:
        real = real[torch.randperm(real.shape[0], generator=seeded)[:ROWS]]
    if validation.shape[0] > ROWS // 4:
        validation = validation[torch.randperm(validation.shape[0], generator=seeded)[: ROWS // 4]]
    held_y = model.labels(validation)
    if NOISE > 0:  # noise on the model-space rows: their features read per batch
        seen, held, read = real, validation, model.features
    else:  # the features once (row by row: the same numbers as read per batch)
        seen, held, read = model.features(real), model.features(validation), nn.Identity()
    runs = []
    for k, head in enumerate(model.heads()):
        epochs, _ = fit_with_stopping(
            head, lambda rows, head=head: head(read(rows)), nn.CrossEntropyLoss(),
            (seen, model.labels(real)), (held, held_y), seed=seed + k * MEMBER_SEED_STEP,
            generator=seeded, lr=LR, batch=BATCH, epochs=EPOCHS if held_y.numel() else 0,
            patience=PATIENCE, noise=NOISE,
        )  # fmt: skip
        runs.append(epochs)
    if not all(runs):
        return {"target_epochs": 0.0, "target_loss": float("inf")}
    model.locate_from(real)
    loss = nn.functional.cross_entropy(model.logits_of(read(held)), held_y)
    return {"target_epochs": sum(runs) / len(runs), "target_loss": float(loss)}


@torch.no_grad()
def calibrate_target(
    model: TargetModel, rows: torch.Tensor, noise: torch.Tensor, wanted: torch.Tensor | None
) -> float:
    """Calibrate ``model``'s draws over generated ``rows`` (the generator's own, before the
    draw, and their ``noise``), as the generator's calibration does its columns: a number's
    drawn values pass a monotone map from their quantiles to the normal's (the train part's
    model-space marginal); a category's logits get the bias that brings its levels' mean
    probabilities to ``wanted`` (the shares the generator was calibrated to; multiplicative
    steps). Returns the category's remaining total variation (0 for a number)."""
    model.eval()
    if model.numeric:
        model.value_from.copy_(model.value_to)  # identity while the draws are read
        drawn = model(rows, noise)
        knots = quantile_knots(drawn[model.present(drawn), model.start])
        if knots is not None:
            model.value_from.copy_(knots.unsqueeze(0))
        return 0.0
    if wanted is None:
        return 0.0
    logits = model.logits(rows).double()
    wanted = wanted.double()
    bias = torch.zeros(model.outputs, dtype=torch.float64)
    for _ in range(BIAS_STEPS):
        made = torch.softmax(logits + bias, dim=1).mean(dim=0)
        bias = bias + torch.log(wanted.clamp_min(1e-12) / made.clamp_min(1e-12))
        bias = (bias - bias.max()).clamp_min(-MAX_BIAS)
    model.level_bias.copy_(bias.float())
    made = torch.softmax(logits + bias, dim=1).mean(dim=0)
    return float((made - wanted).abs().sum()) / 2
