"""Early stopping with a model that never improves, min_delta, and best weights; the table
GAN's small fits after training."""

from __future__ import annotations

import torch
from torch import nn

from genlab.training.early_stopping import EarlyStopping, fit_with_stopping
from genlab.training.loop import EarlyStop, run_epochs


def test_never_improving_stops_after_patience() -> None:
    stopper = EarlyStopping(patience=3)
    decisions = [stopper.update(v, e) for e, v in enumerate([1.0, 1.0, 1.2, 1.1], start=1)]
    assert decisions == [False, False, False, True]
    assert stopper.best_epoch == 1 and stopper.best == 1.0


def test_min_delta_and_max_mode() -> None:
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    stopper.update(1.0, 1)
    assert not stopper.update(0.95, 2)  # not better by more than 0.1
    assert stopper.best == 1.0 and stopper.bad_checks == 1
    assert not stopper.update(0.85, 3) and stopper.best_epoch == 3
    high = EarlyStopping(patience=1, mode="max")
    assert not high.update(0.5, 1) and high.update(0.4, 2)


def test_no_patience_never_stops() -> None:
    stopper = EarlyStopping(patience=None)
    assert not any(stopper.update(1.0, e) for e in range(1, 100))


def test_state_round_trip() -> None:
    stopper = EarlyStopping(patience=4, min_delta=0.01)
    stopper.update(0.5, 1, {"w": torch.ones(2)})
    stopper.update(0.7, 2)
    clone = EarlyStopping()
    clone.load_state_dict(stopper.state_dict())
    assert clone.state_dict()["bad_checks"] == 1 and clone.best_epoch == 1
    assert torch.equal(clone.best_state["w"], torch.ones(2))


def test_loop_restores_best_weights_of_a_worsening_model() -> None:
    model = nn.Linear(1, 1, bias=False)
    nn.init.constant_(model.weight, 0.0)

    def epoch_fn(epoch: int) -> dict[str, float]:
        with torch.no_grad():
            model.weight += 1.0  # weight == epoch after this epoch
        return {"val_loss": float(abs(model.weight.item() - 2.0))}  # best at epoch 2

    stop = EarlyStop(EarlyStopping(3), "val_loss", model)
    result = run_epochs(epoch_fn, max_epochs=50, callbacks=[stop], watched=model)
    assert result.stopped_early and result.epochs_run == 5 and result.best_epoch == 2
    assert model.weight.item() == 2.0
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4, 5]


def test_early_stop_reaching_its_target_stops_at_once() -> None:
    model = nn.Linear(1, 1)
    values = iter([3.0, 2.0, 0.0, 5.0, 5.0])
    stop = EarlyStop(EarlyStopping(10), "f", model, target=0.0)
    result = run_epochs(lambda epoch: {"f": next(values)}, max_epochs=5, callbacks=[stop])
    assert result.epochs_run == 3 and result.best_epoch == 3 and result.stopped_early


def test_lr_schedule_and_metrics_file_callbacks(tmp_path) -> None:
    import csv

    from genlab.training.loop import LRSchedule, MetricsFile

    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    path = tmp_path / "metrics.csv"
    callbacks = [LRSchedule(scheduler, optimizer, "loss"), MetricsFile(path)]
    result = run_epochs(lambda epoch: {"loss": 1.0}, max_epochs=3, callbacks=callbacks)
    # the loss never improves after epoch 1: the rate halves after epochs 2 and 3
    assert [row["lr"] for row in result.history] == [1.0, 0.5, 0.25]
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3] and float(rows[-1]["lr"]) == 0.25


def test_fit_with_stopping_keeps_the_best_held_loss_and_stops_on_it() -> None:
    # a classifier that can fit its rows' random labels but not the held rows': its held loss
    # falls, then rises, so the fit stops before its epochs and keeps the best epoch's weights
    torch.manual_seed(0)
    rows, held = torch.randn(64, 8), torch.randn(64, 8)
    labels = (rows[:, 0] > 0).long() ^ (torch.rand(64) < 0.3).long()
    held_labels = (held[:, 0] > 0).long()
    net = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 2))
    loss = nn.CrossEntropyLoss()
    epochs, best = fit_with_stopping(
        net, net, loss, (rows, labels), (held, held_labels), seed=1,
        generator=torch.Generator().manual_seed(2), lr=1e-2, batch=16, epochs=500, patience=5,
    )  # fmt: skip
    assert 5 < epochs < 500
    with torch.no_grad():
        assert float(loss(net(held), held_labels)) == best  # the best weights are back
    assert not any(p.requires_grad for p in net.parameters()) and not net.training
    again = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 2))
    again_epochs, again_best = fit_with_stopping(
        again, again, loss, (rows, labels), (held, held_labels), seed=1,
        generator=torch.Generator().manual_seed(2), lr=1e-2, batch=16, epochs=500, patience=5,
    )  # fmt: skip
    assert (again_epochs, again_best) == (epochs, best)  # its weights reset from the seed
    _, none = fit_with_stopping(
        again, again, loss, (rows, labels), (held, held_labels), seed=1,
        generator=torch.Generator().manual_seed(2), lr=1e-2, batch=16, epochs=0, patience=5,
    )  # fmt: skip
    assert none == float("inf")
