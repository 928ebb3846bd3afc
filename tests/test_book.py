"""``genlab.book``: every book figure cites a known source; a run's summary names its job."""

from __future__ import annotations

from typing import Any

import pytest

from genlab import book, demo


def test_every_figure_has_a_known_source_and_a_unique_key() -> None:
    assert book.BOOK, "no book figures"
    for job, figures in book.BOOK.items():
        assert figures, job
        keys = [figure.key for figure in figures]
        assert len(keys) == len(set(keys)), f"{job}: a summary key twice"
        for figure in figures:
            assert figure.source in book.SOURCES, f"{job} {figure.key}: {figure.source!r}"
            assert figure.note.strip(), f"{job} {figure.key}: no note"
            if isinstance(figure.value, tuple):
                low, high = figure.value
                assert low <= high, f"{job} {figure.key}: range {figure.value}"
    assert all(text.strip() for text in book.SOURCES.values())


@pytest.mark.parametrize(
    ("summary", "job"),
    [
        ({"kind": "classifier", "task": "multiclass"}, "classify-multiclass"),
        ({"kind": "classifier", "task": "binary"}, "classify-binary"),
        ({"kind": "classifier", "config": {"task": "binary"}}, "classify-binary"),
        ({"kind": "gan", "data": {"kind": "curve", "book_reference": "gan-exp"}}, "gan-exp"),
        (
            {"kind": "gan", "data": {"kind": "integers", "book_reference": "gan-multiples-of-5"}},
            "gan-multiples-of-5",
        ),
    ],
)
def test_job_key(summary: dict[str, Any], job: str) -> None:
    assert book.job_key(summary) == job
    assert book.figures_for(job) == {f.key: f for f in book.BOOK[job]}


@pytest.mark.parametrize(
    "summary",
    [
        {},
        {"kind": "classifier", "task": "regression"},
        {"kind": "gan", "data": {"kind": "curve", "name": "exp"}},  # no book_reference
        {"kind": "gan", "data": {"kind": "integers", "name": "multiples of 5 in [0, 100)"}},
        {"kind": "gan", "data": {"kind": "curve", "book_reference": "gan-sine"}},  # not in BOOK
        {"kind": "gan", "data": {"book_reference": None}},
        {"kind": "gan"},
        {"kind": "image", "data": {"book_reference": "gan-exp"}},  # a kind genlab does not know
    ],
)
def test_unknown_job_is_none(summary: dict[str, Any]) -> None:
    assert book.job_key(summary) is None
    assert book.figures_for(book.job_key(summary)) == {}


def test_figure_text() -> None:
    assert book.BookFigure("test_accuracy", 0.8820, "n", "ch2-notebook").text() == "0.882"
    assert book.BookFigure("metrics.validity", (0.998, 1.0), "n", "ch3-run").text() == "0.998-1"
    assert book.BookFigure("epochs_run", 1050, "n", "ch3-run").text() == "1050"


def test_demo_reads_the_book() -> None:
    """The demo's book column and sources come from genlab.book, not its own copies."""
    assert demo.book_cell("classify-multiclass", "test_accuracy") == "0.8820"
    assert demo.book_cell("gan-multiples-of-5", "metrics.covered") == "16–17"
    assert demo.book_cell("gan-exp", "metrics.out_of_range") == "-"  # the book gives none
    assert demo.book_sources(["classify-binary", "gan-exp", "gan-multiples-of-5"]) == [
        book.SOURCES["ch2-notebook"],
        book.SOURCES["ch3-run"],
    ]
