"""The history's trend pictures: per strategy, each cell's F1 against the ordered runs, its
95% interval as a band and each significant step marked (history-<strategy>.png)."""

from __future__ import annotations

from pathlib import Path

from xner.reporting.plots import _pyplot, _save

LEGEND_UP_TO = 20  # cells per picture up to which each line is named in the legend


def plot_trends(history, out: str | Path) -> list[Path]:
    """One picture per strategy of `history` (xner.reporting.history.History) in `out`."""
    from xner.reporting.history import cell_name, several_studies, strategy_file

    out = Path(out)
    several = several_studies(history)
    strategies = list(dict.fromkeys(c.cell.strategy for c in history.cells))
    labels = [r.label for r in history.runs]
    written = []
    for strategy in strategies:
        cells = [c for c in history.cells if c.cell.strategy == strategy]
        plt = _pyplot()
        width = min(16, 4 + 1.2 * len(labels))
        fig, ax = plt.subplots(figsize=(width, 4.5), dpi=110)
        for c in cells:
            xs = [i for i, m in enumerate(c.series) if m is not None]
            ys = [c.series[i].mean for i in xs]
            (line,) = ax.plot(xs, ys, marker="o", label=cell_name(c.cell, several))
            bands = [(i, c.series[i]) for i in xs if c.series[i].low is not None]
            if bands:
                ax.fill_between(
                    [i for i, _ in bands], [m.low for _, m in bands], [m.high for _, m in bands],
                    color=line.get_color(), alpha=0.15, linewidth=0,
                )  # fmt: skip
            for step in c.steps:
                if step.significant:
                    ax.plot(
                        [step.after], [c.series[step.after].mean], marker="v" if step.fell
                        else "^", markersize=12, color="tab:red" if step.fell else "tab:green",
                        markeredgecolor="black", linestyle="none", zorder=5,
                    )  # fmt: skip
        ax.set_xticks(range(len(labels)), labels, rotation=20 if len(labels) > 3 else 0,
                      ha="right" if len(labels) > 3 else "center", fontsize=8)  # fmt: skip
        ax.set_xlim(-0.5, len(labels) - 0.5)
        ax.set_ylabel("entity F1 (95% interval as a band)")
        ax.set_title(f"{strategy}: F1 across runs (▼/▲ a significant step)")
        ax.grid(True, alpha=0.3)
        if len(cells) <= LEGEND_UP_TO:
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7)
        written.append(_save(fig, out / strategy_file(strategy)))
    return written
