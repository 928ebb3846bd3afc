"""The README's results table, rendered from the committed benchmark results.

Every figure in the table is read from ``bench/results/NAME.json`` (written by
``bench/NAME.py`` through :func:`_results.emit`), so the README cannot drift from what was
measured. :data:`ROWS` lists the rows: each cell is a template whose ``{path:format}`` fields
name a figure in that benchmark's JSON by its dotted path (``book.test_accuracy``,
``runs.0.epoch_wall_seconds``) and format it with Python's format spec. Only the fields hold
figures: the book and genlab cells have no digits of their own (a test checks).

    python bench/table.py            # print the rendered section
    python bench/table.py --write    # put it into README.md between the results markers
    python bench/table.py --check    # exit 1 if README.md differs (tests/test_readme_results.py)

``make bench`` reruns every benchmark, then ``--write``.
"""

from __future__ import annotations

import argparse
import string
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _results import RESULTS_DIR, load

README = Path(__file__).resolve().parent.parent / "README.md"
START = "<!-- results:start (rendered by python bench/table.py --write; do not edit) -->"
END = "<!-- results:end -->"
HEADER = ("job", "figure", "book", "genlab", "command")


@dataclass(frozen=True)
class Row:
    """One table row: templates for its cells, filled from ``bench/results/BENCH.json``."""

    bench: str  # the benchmark: bench/BENCH.py writes bench/results/BENCH.json
    job: str
    figure: str
    book: str  # "-" where the book has no such figure
    genlab: str
    args: str = ""  # the benchmark's arguments, shown in the command

    @property
    def command(self) -> str:
        """The command that produced the row's figures."""
        return " ".join(["python", f"bench/{self.bench}.py", *([self.args] if self.args else [])])


M5_RULE = "genlab_rule_n%3==1_max60"
SEEDS_FIGURE = "over {n_seeds} seeds, mean ± std [min, max]"
#: How bench/image_gan.py's figures were made: a part at a time, the book's 50-epoch run's
#: figures taken from the committed results (its cached generators were gone).
IMAGE_PARTS = "--part NAME for each part, the book's with --book-from-results"


def spread(path: str, spec: str) -> str:
    """A cell template for a figure's spread over seeds: ``mean ± std [min, max]``."""
    return (
        f"{{{path}.mean:{spec}}} ± {{{path}.std:{spec}}} "
        f"[{{{path}.min:{spec}}}, {{{path}.max:{spec}}}]"
    )


#: The results table, row by row (figures by their keys in the benchmarks' JSON).
ROWS: tuple[Row, ...] = (
    Row(
        "classifier",
        "10-class MLP",
        "test accuracy, exact (10,000 test images; book: its last epoch / its best validation "
        "loss)",
        "{book.test_accuracy_exact:.4f} / {book.best_val_test_accuracy_exact:.4f} "
        "({book.epochs} epochs)",
        "{genlab.test_accuracy:.4f} ({genlab.epochs} epochs, best {genlab.best_epoch}; one run, "
        "the seed its defaults were tuned on: the next row is the figure over seeds)",
    ),
    Row(
        "seeds",
        "10-class MLP",
        f"test accuracy {SEEDS_FIGURE} (the book's run takes minutes: one run above)",
        "-",
        f"**{spread('classifier_multiclass.test_accuracy', '.4f')}** "
        "({classifier_multiclass.seconds_per_run:.0f} s a run)",
    ),
    Row(
        "classifier",
        "10-class MLP",
        "seconds of one training pass over 50,000 images, batch 64 (fastest epoch)",
        "{book.train_epoch_seconds:.2f}",
        "{genlab.train_epoch_seconds_batch64:.2f} (**{epoch_speedup_batch64:.1f}x faster**)",
    ),
    Row(
        "classifier",
        "10-class MLP",
        "seconds of one engine epoch (training + validation, callbacks) vs the same work as a "
        "bare loop, batch 64",
        "-",
        "{engine_epoch_seconds_batch64:.2f} vs {bare_epoch_seconds_batch64:.2f} "
        "(**{engine_vs_bare_epoch:.2f}x**)",
    ),
    Row(
        "classifier",
        "10-class MLP",
        "seconds of a whole run: training to its stop, then the test "
        "(genlab's also loads the data)",
        "{book.run_seconds:.1f}",
        "{genlab.run_seconds:.1f} (**{run_speedup:.1f}x faster**)",
    ),
    Row(
        "classifier_variants",
        "binary MLP (T-shirt vs ankle boot)",
        "test accuracy ({binary_mlp.genlab.test_total:,} images)",
        "{binary_mlp.book.test_accuracy:.4f} (reported)",
        "**{binary_mlp.genlab.test_accuracy:.4f}** ({binary_mlp.genlab.epochs_run} epochs, "
        "{binary_mlp.genlab.train_seconds:.1f} s of training)",
    ),
    Row(
        "seeds",
        "binary MLP (T-shirt vs ankle boot)",
        f"test accuracy {SEEDS_FIGURE}",
        "-",
        f"**{spread('classifier_binary.test_accuracy', '.4f')}** "
        "({classifier_binary.seconds_per_run:.0f} s a run)",
    ),
    Row(
        "classifier_variants",
        "CNN, 10 classes",
        "test accuracy ({multiclass_cnn.genlab.test_total:,} images)",
        "-",
        "**{multiclass_cnn.genlab.test_accuracy:.4f}** ({multiclass_cnn.genlab.epochs_run} "
        "epochs, {multiclass_cnn.genlab.train_seconds:.0f} s of training)",
    ),
    Row(
        "curve_gan",
        "exp GAN",
        "median relative error of y vs 1.08^x (test part, fresh noise; book: last / best on "
        "validation)",
        "{book.relation_median_rel_error:.2%} / {book_best.relation_median_rel_error:.2%} "
        "(its stop: epoch {book.epochs})",
        "**{genlab.relation_median_rel_error:.2%}**",
    ),
    Row(
        "seeds",
        "exp GAN",
        f"median relative error of y vs 1.08^x {SEEDS_FIGURE} (the book's run takes minutes)",
        "-",
        f"**{spread('exp_gan.relation_median_rel_error', '.2%')}** "
        "({exp_gan.seconds_per_run:.0f} s a run)",
    ),
    Row(
        "curve_gan",
        "exp GAN",
        "`w1` of x (/ std)",
        "{book.w1_x:.3f} / {book_best.w1_x:.3f}",
        "**{genlab.w1_x:.3f}**",
    ),
    Row(
        "curve_gan",
        "exp GAN",
        "`out_of_range` (share of x outside [0, 50))",
        "{book.out_of_range:.2%} / {book_best.out_of_range:.2%} (x reaches {book.x_max:.1f})",
        "**{genlab.out_of_range:.2%}**",
    ),
    Row(
        "curve_gan",
        "exp GAN",
        "seconds to those figures",
        "{book.seconds:.1f}",
        "{genlab.seconds:.1f} (**{time_ratio:.2f}x the time**)",
    ),
    Row(
        "curve_gan",
        "sine GAN",
        "`relation_nrmse`",
        "-",
        "**{genlab_sine.relation_nrmse:.3f}** ({genlab_sine.seconds:.1f} s)",
    ),
    Row(
        "seeds",
        "sine GAN",
        f"`relation_nrmse` {SEEDS_FIGURE}",
        "-",
        f"**{spread('sine_gan.relation_nrmse', '.3f')}** "
        "({sine_gan.seconds_per_run:.0f} s a run)",
    ),
    Row(
        "integer_gan",
        "multiples of 5",
        "validity; values generated; JS in bits (worst of {repeats} seeds; book: last / best "
        "on validation)",
        "{book.validity:.2%}; {book.coverage}; {book.js:.4f} / {book_best.validity:.2%}; "
        "{book_best.coverage}; {book_best.js:.4f}",
        "**{genlab.validity:.2%}; {genlab.coverage}; {genlab.js:.4f}**",
    ),
    Row(
        "integer_gan",
        "multiples of 5",
        "validity; values generated (of 20); JS in bits: mean ± std over {repeats} seeds (book: "
        "its last generator)",
        "{book.spread.validity.mean:.2%} ± {book.spread.validity.std:.2%}; "
        "{book.spread.covered.mean:.1f} ± {book.spread.covered.std:.1f}; "
        "{book.spread.js.mean:.4f} ± {book.spread.js.std:.4f}",
        "**{genlab.spread.validity.mean:.2%} ± {genlab.spread.validity.std:.2%}; "
        "{genlab.spread.covered.mean:.1f} ± {genlab.spread.covered.std:.1f}; "
        "{genlab.spread.js.mean:.4f} ± {genlab.spread.js.std:.4f}**",
    ),
    Row(
        "integer_gan",
        "multiples of 5",
        "seconds to those figures (median of {repeats} seeds)",
        "{book.wall_s:.2f} ({book.iterations:,} iterations)",
        "{genlab.wall_s:.2f} (**{time_ratio:.2f}x the time**)",
    ),
    Row(
        "integer_gan",
        '`--rule "n % 3 == 1" --max 60`',
        "validity; values generated (worst of {repeats} seeds)",
        "-",
        f"**{{{M5_RULE}.validity:.2%}}; {{{M5_RULE}.coverage}}** ({{{M5_RULE}.wall_s:.2f}} s)",
    ),
    Row(
        "csv_gan",
        "`gan train csv`, no formula: y = 1.08^x (2,048 rows)",
        "median relative error of y vs 1.08^x (10,000 samples; genlab's after its support "
        "filter, then before it; CTGAN 300 epochs and SDV GaussianCopula, which have none, on "
        "the same rows); privacy (1: no closer to the rows than fresh rows)",
        "-",
        "**{exp.genlab.score:.2%}** / {exp.genlab.unfiltered.score:.2%}; privacy "
        "{exp.genlab.privacy:.2f} ({exp.genlab.seconds:.0f} s); CTGAN {exp.ctgan.score:.1%}, "
        "{exp.ctgan.privacy:.2f}; GaussianCopula {exp.copula.score:.1%}, {exp.copula.privacy:.2f}",
    ),
    Row(
        "csv_gan",
        "`gan train csv`, no formula: y = sin x",
        "RMSE of y - sin x / std(y)",
        "-",
        "**{sine.genlab.score:.3f}** / {sine.genlab.unfiltered.score:.3f}; privacy "
        "{sine.genlab.privacy:.2f} ({sine.genlab.seconds:.0f} s); CTGAN {sine.ctgan.score:.2f}, "
        "{sine.ctgan.privacy:.2f}; GaussianCopula {sine.copula.score:.2f}, "
        "{sine.copula.privacy:.2f}",
    ),
    Row(
        "csv_gan",
        "`gan train csv`: a spiral",
        "mean distance to the curve / its radius",
        "-",
        "**{spiral.genlab.score:.2%}** / {spiral.genlab.unfiltered.score:.2%}; privacy "
        "{spiral.genlab.privacy:.2f} ({spiral.genlab.seconds:.0f} s); CTGAN "
        "{spiral.ctgan.score:.1%}, {spiral.ctgan.privacy:.2f}; GaussianCopula "
        "{spiral.copula.score:.1%}, {spiral.copula.privacy:.2f}",
    ),
    Row(
        "csv_gan",
        "`gan train csv`: three clusters",
        "share of samples farther than 4 sigma from every cluster (bridges; a normal sample: "
        "0.03%)",
        "-",
        "**{clusters.genlab.score:.2%}** / {clusters.genlab.unfiltered.score:.2%}; privacy "
        "{clusters.genlab.privacy:.2f} ({clusters.genlab.seconds:.0f} s); CTGAN "
        "{clusters.ctgan.score:.1%}, {clusters.ctgan.privacy:.2f}; GaussianCopula "
        "{clusters.copula.score:.1%}, {clusters.copula.privacy:.2f}",
    ),
    Row(
        "image_gan",
        "Fashion-MNIST GAN, unconditional (book ch. 4)",
        "`fid_judge`: Fréchet distance in genlab's judge's features, 10,000 generated vs the "
        "10,000 test images (real images: {floor.fid_judge:.2f}; book: its last epoch / its "
        "best on validation, of {book.epochs_trained} epochs)",
        "{book.last.fid_judge:.1f} / {book.best.fid_judge:.1f}",
        "**{genlab.metrics.fid_judge:.1f}** ({genlab.epochs_run} epochs, self-conditioned on "
        "{genlab_settings.clusters} clusters, no labels; {ratios.fid_genlab_over_book_last:.2f}x "
        "/ {ratios.fid_genlab_over_book_best:.2f}x the book's)",
        f"{IMAGE_PARTS} (real images: --part floors)",
    ),
    Row(
        "image_gan",
        "Fashion-MNIST GAN, unconditional",
        "precision / recall in the judge's features (real images: {floor.precision:.3f} / "
        "{floor.recall:.3f}); rarest class's share, by the judge / by a second judge (an MLP); "
        "the thinnest class's recall",
        "{book.last.precision:.3f} / {book.last.recall:.3f}; {book.last.min_class_share:.1%}",
        "**{genlab.metrics.precision:.3f} / {genlab.metrics.recall:.3f}; "
        "{genlab.metrics.min_class_share:.1%}** / {genlab.metrics.second_min_class_share:.1%}; "
        "{genlab.thinnest_class.class} {genlab.thinnest_class.recall:.3f}",
        f"{IMAGE_PARTS} (real images: --part floors)",
    ),
    Row(
        "image_gan",
        "Fashion-MNIST GAN, unconditional",
        "seconds: genlab's whole run vs the book's 50 epochs ({threads} thread; the book's "
        "epoch timed in the same process)",
        "{book.wall_seconds_50_epochs:,.0f}",
        "{genlab.wall_seconds:,.0f} (**{ratios.time_genlab_over_book_50_epochs:.2f}x the time**)",
        IMAGE_PARTS,
    ),
    Row(
        "image_gan",
        "`genlab gan train fashion` (the defaults, as a user runs them)",
        "seconds of the whole run with torch's default threads ({genlab_default_time.threads}), "
        "nothing else running (budget: 10 minutes)",
        "-",
        "**{genlab_default_time.wall_seconds:,.0f}** ({genlab_default_time.epochs_run} epochs; "
        "`fid_judge` {genlab_default_time.metrics.fid_judge:.1f})",
        IMAGE_PARTS,
    ),
    Row(
        "image_gan",
        "Fashion-MNIST GAN, class-conditional",
        "`class_fidelity`: share the judge puts in the class asked for (judge's accuracy on "
        "real test images: {genlab_conditional.metrics.floor_class_fidelity:.3f}); worst class",
        "-",
        "**{genlab_conditional.metrics.class_fidelity:.3f}**; {genlab_conditional.worst_class."
        "class} {genlab_conditional.worst_class.fidelity:.3f} (judge: "
        "{genlab_conditional.worst_class.floor:.3f}); `fid_judge` "
        "{genlab_conditional.metrics.fid_judge:.1f}; recall "
        "{genlab_conditional.metrics.recall:.3f}",
        IMAGE_PARTS,
    ),
    Row(
        "image_gan",
        "`gan train fashion --preset book`",
        "seconds per epoch: genlab's book preset vs the book's loop",
        "{book_preset.book_epoch_seconds:.0f}",
        "{book_preset.genlab_epoch_seconds:.0f} ({ratios.book_preset_epoch_over_book_epoch:.2f}x)",
        IMAGE_PARTS,
    ),
    Row(
        "table_gan",
        "`gan train csv`: your own table, {rows.diamonds.train_rows:,} rows of diamonds",
        "SDMetrics quality (column shapes and pair trends) on {rows.diamonds.test_rows:,} "
        "held-out rows, over seeds (other real rows: {rows.diamonds.real.quality.mean:.3f}; "
        "SDV's CTGAN and TVAE: {peer_epochs} epochs, one seed)",
        "-",
        f"**{spread('rows.diamonds.genlab.quality', '.3f')}**; GaussianCopula "
        "{rows.diamonds.gaussiancopula.quality.mean:.3f}; CTGAN "
        "{rows.diamonds.ctgan.quality.mean:.3f}; TVAE {rows.diamonds.tvae.quality.mean:.3f}",
        args="--part SIDE for each side (its docstring; make bench), then --part emit",
    ),
    Row(
        "table_gan",
        "`gan train csv`: your own table, diamonds",
        "ML efficacy: R² of {rows.diamonds.target} on the held-out rows, a gradient-boosting "
        "model fitted on synthetic rows (on real rows: {rows.diamonds.real.ml_efficacy.mean:.3f})",
        "-",
        f"**{spread('rows.diamonds.genlab.ml_efficacy', '.3f')}**; GaussianCopula "
        "{rows.diamonds.gaussiancopula.ml_efficacy.mean:.3f}; CTGAN "
        "{rows.diamonds.ctgan.ml_efficacy.mean:.3f}; TVAE "
        "{rows.diamonds.tvae.ml_efficacy.mean:.3f}",
        args="--part SIDE for each side (its docstring; make bench), then --part emit",
    ),
    Row(
        "table_gan",
        "`gan train csv`: your own table, diamonds",
        "privacy (no closer to training rows than fresh rows: one) / copies of training rows; "
        "fit seconds",
        "-",
        "**{rows.diamonds.genlab.privacy.mean:.3f} / {rows.diamonds.genlab.copies.mean:.1%}; "
        "{rows.diamonds.genlab.fit_seconds.mean:,.0f} s**, "
        "{rows.diamonds.fit_time_genlab_over_ctgan:.2f}x CTGAN's (GaussianCopula "
        "{rows.diamonds.gaussiancopula.privacy.mean:.3f} / "
        "{rows.diamonds.gaussiancopula.copies.mean:.1%}; "
        "{rows.diamonds.gaussiancopula.fit_seconds.mean:,.0f} s; CTGAN "
        "{rows.diamonds.ctgan.privacy.mean:.3f} / {rows.diamonds.ctgan.copies.mean:.1%}; "
        "{rows.diamonds.ctgan.fit_seconds.mean:,.0f} s; TVAE "
        "{rows.diamonds.tvae.privacy.mean:.3f} / {rows.diamonds.tvae.copies.mean:.1%}; "
        "{rows.diamonds.tvae.fit_seconds.mean:,.0f} s)",
        args="--part SIDE for each side (its docstring; make bench), then --part emit",
    ),
    Row(
        "table_gan",
        "`gan train csv`: {rows.gss_wages.train_rows:,} rows of gss_wages (empty cells)",
        "SDMetrics quality, over seeds (other real rows: {rows.gss_wages.real.quality.mean:.3f}); "
        "largest gap in a column's empty share",
        "-",
        f"**{spread('rows.gss_wages.genlab.quality', '.3f')}**; "
        "{rows.gss_wages.genlab.missing_gap.mean:.1%}; GaussianCopula "
        "{rows.gss_wages.gaussiancopula.quality.mean:.3f}; "
        "{rows.gss_wages.gaussiancopula.missing_gap.mean:.1%}; TVAE "
        "{rows.gss_wages.tvae.quality.mean:.3f}; {rows.gss_wages.tvae.missing_gap.mean:.1%}; "
        "CTGAN {rows.gss_wages.ctgan.quality.mean:.3f}; "
        "{rows.gss_wages.ctgan.missing_gap.mean:.1%}",
        args="--part SIDE for each side (its docstring; make bench), then --part emit",
    ),
    Row(
        "table_gan",
        "`gan train csv`: gss_wages",
        "ML efficacy: R² of {rows.gss_wages.target} (on real rows: "
        "{rows.gss_wages.real.ml_efficacy.mean:.3f}); privacy",
        "-",
        f"**{spread('rows.gss_wages.genlab.ml_efficacy', '.3f')}**; "
        "{rows.gss_wages.genlab.privacy.mean:.3f}; GaussianCopula "
        "{rows.gss_wages.gaussiancopula.ml_efficacy.mean:.3f}; "
        "{rows.gss_wages.gaussiancopula.privacy.mean:.3f}; TVAE "
        "{rows.gss_wages.tvae.ml_efficacy.mean:.3f}; {rows.gss_wages.tvae.privacy.mean:.3f}; "
        "CTGAN {rows.gss_wages.ctgan.ml_efficacy.mean:.3f}; "
        "{rows.gss_wages.ctgan.privacy.mean:.3f} ({rows.gss_wages.ctgan.fit_seconds.mean:,.0f} s; "
        "genlab {rows.gss_wages.genlab.fit_seconds.mean:,.0f} s)",
        args="--part SIDE for each side (its docstring; make bench), then --part emit",
    ),
    Row(
        "table_scale",
        "`gan train csv`: {rows:,} rows (diamonds resampled), the defaults",
        "seconds of the whole command (read, fit the columns, {epochs_run} epochs, test "
        "figures) and its peak memory (targets: 15 minutes, 4 GB)",
        "-",
        "**{command_seconds:,.0f} s; {peak_memory_gib:.2f} GiB** (quality {quality:.3f}, ML "
        "efficacy {ml_efficacy:.3f}, privacy {privacy:.2f})",
    ),
    Row(
        "loop_times",
        "`make quicktest`: the quick test loop, `{command}`",
        "seconds of the whole run ({tests_passed:,} tests), nothing else running (target: "
        "{target_seconds} s)",
        "-",
        "**{quicktest_seconds:.0f}**",
    ),
    Row(
        "distributed",
        "torchrun, 10-class `{model}`, {epochs} epochs, batch {batch_size}",
        "training images per second of whole epochs (training pass, validation, checkpoint), "
        "{runs.0.processes} vs {runs.1.processes} processes on `{runs.0.device}`",
        "-",
        "{runs.0.train_images_per_epoch_second:,.0f} vs "
        "{runs.1.train_images_per_epoch_second:,.0f} ({epoch_throughput_ratio:.2f}x)",
    ),
    Row(
        "distributed",
        "torchrun, 10-class `{model}`, {epochs} epochs, batch {batch_size}",
        "test accuracy, {runs.0.processes} vs {runs.1.processes} processes",
        "-",
        "{runs.0.test_accuracy:.4f} vs {runs.1.test_accuracy:.4f}",
    ),
)


class _Figures(string.Formatter):
    """``str.format`` whose fields are dotted paths into one benchmark's JSON."""

    def __init__(self, bench: str) -> None:
        self.bench = bench

    def get_field(self, field_name: str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        value: Any = kwargs
        try:
            for part in field_name.split("."):
                value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise KeyError(f"bench/results/{self.bench}.json has no {field_name!r}") from exc
        return value, field_name


def fields(template: str) -> list[str]:
    """The JSON paths a cell template reads."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def literal_text(template: str) -> str:
    """A cell template without its fields (what does not come from the JSON)."""
    return "".join(text for text, _, _, _ in string.Formatter().parse(template))


def benches(rows: Iterable[Row] = ROWS) -> list[str]:
    """The benchmarks the rows read, in table order, each once."""
    return list(dict.fromkeys(row.bench for row in rows))


def load_results(results_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every committed ``bench/results/NAME.json`` the table reads, by NAME."""
    return {name: load(name, results_dir) for name in benches()}


def render_row(row: Row, figures: Mapping[str, Any]) -> tuple[str, ...]:
    """The row's cells, filled from its benchmark's figures."""
    formatter = _Figures(row.bench)
    cells = tuple(
        formatter.vformat(template, (), figures)
        for template in (row.job, row.figure, row.book, row.genlab)
    )
    cells += (f"`{row.command}`",)
    for cell in cells:
        if "|" in cell or "\n" in cell:
            raise ValueError(f"a cell of a {row.bench} row would break the table: {cell!r}")
    return cells


def render(results: Mapping[str, Mapping[str, Any]], rows: Iterable[Row] = ROWS) -> str:
    """The README's results section (between the markers): the table, then its notes."""
    rows = list(rows)
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(render_row(row, results[row.bench])) + " |" for row in rows),
        "",
        "Every figure above is read from `bench/results/NAME.json`, written by the command in its "
        "row; `python bench/table.py --write` renders this table from them (`make bench` runs "
        "it) and `tests/test_readme_results.py` checks that it matches.",
    ]
    notes: dict[str, list[str]] = {}  # a benchmark's "note" (provisional figures) -> files
    for name in benches(rows):
        if results[name].get("note"):
            notes.setdefault(results[name]["note"], []).append(f"`bench/results/{name}.json`")
    for note, files in notes.items():
        lines += ["", f"**Provisional** ({', '.join(files)}): {note}."]
    return "\n".join(lines)


def section(readme: str) -> str:
    """The text between the results markers of README.md (without the marker lines)."""
    if readme.count(START) != 1 or readme.count(END) != 1:
        raise ValueError(f"README.md needs exactly one {START!r} and one {END!r}")
    inner = readme.split(START, 1)[1].split(END, 1)[0]
    return inner.strip("\n")


def replace_section(readme: str, rendered: str) -> str:
    """README.md with the text between the markers replaced by ``rendered``."""
    section(readme)  # the markers are there, once each
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{rendered}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="update README.md's section")
    action.add_argument("--check", action="store_true", help="exit 1 if README.md differs")
    parser.add_argument("--readme", type=Path, default=README, help="default: README.md")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="the JSON files' folder")
    args = parser.parse_args(argv)
    rendered = render(load_results(args.results))
    if args.write:
        readme = args.readme.read_text(encoding="utf-8")
        updated = replace_section(readme, rendered)
        if updated != readme:
            args.readme.write_text(updated, encoding="utf-8")
        print(f"{args.readme}: results table {'updated' if updated != readme else 'unchanged'}")
    elif args.check:
        if section(args.readme.read_text(encoding="utf-8")) != rendered:
            print(
                f"{args.readme}'s results table differs from bench/results/; run "
                "python bench/table.py --write",
                file=sys.stderr,
            )
            return 1
    else:
        print(rendered)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
