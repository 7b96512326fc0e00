"""SGD, momentum, RMSprop, Adagrad and Adam on one 2-D loss surface: a long, narrow ravine
(the lecture's "long plateaus of the error-function landscape"), with the paths on the
contour plot and the loss per step beside it.

    python examples/optimizer_comparison.py [--quick] [--steps N] [--out DIR]

The loss is a quadratic bowl 20 times steeper across the ravine than along it, the ravine
running at 30° to the axes. Plain SGD must keep its rate small enough for the steep direction
not to diverge, so it crawls along the floor; momentum accumulates the consistent downhill
component; RMSprop, Adagrad and Adam divide each coordinate's step by the size of its recent
gradients. Each optimizer runs at the best of a few learning rates (PyTorch's defaults
otherwise). Gradients come from graphgrad's autodiff.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import graphgrad as gg
from graphgrad import optim
from graphgrad.atomic import atomic_write
from graphgrad.nn import Parameter

ANGLE = np.deg2rad(30)  # the ravine runs at 30°, so no single coordinate follows it
ROTATION = np.array([[np.cos(ANGLE), np.sin(ANGLE)], [-np.sin(ANGLE), np.cos(ANGLE)]])
CURVATURE = ROTATION.T @ np.diag([1 / 20, 1.0]) @ ROTATION  # 20 times steeper across
START = tuple(ROTATION.T @ np.array([-9.0, 1.5]))  # far along the ravine, a little up its side


def loss_of(w: gg.Tensor) -> gg.Tensor:
    """f(w) = wᵀ A w, written with graphgrad ops so backward() gives the gradient 2 A w."""
    return ((gg.tensor(CURVATURE) @ w) * w).sum()


# the other hyper-parameters at PyTorch's defaults; each rate is the best of RATES (final loss)
OPTIMIZERS = {
    "SGD": lambda params, lr: optim.SGD(params, lr=lr),
    "momentum (μ 0.9)": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
    "RMSprop": lambda params, lr: optim.RMSprop(params, lr=lr),
    "Adagrad": lambda params, lr: optim.Adagrad(params, lr=lr),
    "Adam": lambda params, lr: optim.Adam(params, lr=lr),
}
RATES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def trajectory(make, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The visited points (steps + 1, 2) and the loss at each; stops early if it diverges."""
    w = Parameter(np.array(START))
    opt = make([w])
    points, losses = [w.data.copy()], []
    for _ in range(steps):
        loss = loss_of(w)
        losses.append(float(loss.item()))
        if not np.isfinite(losses[-1]) or losses[-1] > 1e6:
            losses[-1] = np.inf
            return np.array(points), np.array(losses)
        opt.zero_grad()
        loss.backward()
        opt.step()
        points.append(w.data.copy())
    losses.append(float(loss_of(w).item()))
    return np.array(points), np.array(losses)


def best_rate(make, steps: int) -> tuple[float, np.ndarray, np.ndarray]:
    """The rate of `RATES` with the lowest final loss (a fair comparison needs each optimizer
    at its own best rate), with its path and losses."""
    runs = [(lr, *trajectory(lambda params, lr=lr: make(params, lr), steps)) for lr in RATES]
    return min(runs, key=lambda run: run[2][-1])


def plot(paths: dict, path: Path) -> Path:
    """Contours with every optimizer's path, and the loss curves (log scale), written
    atomically: a crash mid-save leaves the old picture, never half of a new one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6),
                                      gridspec_kw={"width_ratios": [1.6, 1]})
    xs, ys = np.meshgrid(np.linspace(-10, 3, 300), np.linspace(-6, 2.5, 200))
    grid = np.stack([xs.ravel(), ys.ravel()])
    surface = np.einsum("in,ij,jn->n", grid, CURVATURE, grid).reshape(xs.shape)
    left.contour(xs, ys, surface, levels=np.geomspace(0.01, 20, 12), colors="0.75",
                 linewidths=0.8)
    for name, (lr, points, losses) in paths.items():
        line, = left.plot(points[:, 0], points[:, 1], marker=".", markersize=3, linewidth=1,
                          label=f"{name}, lr {lr:g}")
        right.semilogy(losses, color=line.get_color())
    left.plot(*START, "ko")
    left.plot(0, 0, "k*", markersize=10)
    left.set(title="a ravine 20x steeper across than along: paths to the minimum (*)",
             xlabel="w0", ylabel="w1", xlim=(-10, 3), ylim=(-6, 2.5), aspect="equal")
    left.legend(fontsize=8, loc="lower right")
    right.set(title="loss per step (each at its best rate)", xlabel="step",
              ylabel="f (log scale)")
    right.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        fig.savefig(handle, format="png", dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (for CI)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--out", default=None, help="folder for optimizer_comparison.png")
    args = parser.parse_args(argv)
    steps = args.steps or (40 if args.quick else 60)
    paths = {name: best_rate(make, steps) for name, make in OPTIMIZERS.items()}
    final = {name: losses[-1] for name, (_, _, losses) in paths.items()}
    for name, (lr, _, losses) in paths.items():
        print(f"{name:17s} best lr {lr:<5g} loss after {steps} steps: {losses[-1]:.2e}")
    result: dict = {"final_loss": final, "paths": paths,
                    "best_lr": {name: run[0] for name, run in paths.items()}}
    if args.out is not None:
        result["figure"] = plot(paths, Path(args.out) / "optimizer_comparison.png")
        print("figure:", result["figure"])
    return result


if __name__ == "__main__":
    main()
