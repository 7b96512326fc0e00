"""Benchmark: the demo's LeNet-style CNN on the digits, graphgrad vs PyTorch CPU, in one run.

Both frameworks start from the same initial weights (graphgrad's, copied into PyTorch), see the
same mini-batches in the same order (graphgrad's seeded DataLoader) and use the same optimizer
(SGD, Nesterov momentum 0.9, weight decay 1e-4 on weights, cosine decay), so accuracies are
comparable and the time difference is the frameworks'. Epochs alternate between the two, so
load from other processes slows both alike. Prints seconds per epoch (median and min over
epochs, evaluation excluded), final test accuracy for each, and the ratio. PyTorch is
skipped, with a note, when it is not installed.

    python benchmarks/bench_training.py [--epochs 10] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

from graphgrad import optim
from graphgrad.data import DataLoader, load_digits
from graphgrad.nn import LeNet
from graphgrad.train import evaluate, fit

LR, MOMENTUM, WEIGHT_DECAY, BATCH = 0.05, 0.9, 1e-4, 32


def graphgrad_trainer(data, epochs: int, seed: int):
    """(initial weights, one_epoch() -> seconds, accuracy() -> test accuracy)."""
    model = LeNet(rng=seed)
    initial = model.state_dict()
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True,
                          weight_decay=WEIGHT_DECAY)
    schedule = optim.CosineDecay(optimizer, total=epochs, min_factor=0.02)
    loader = DataLoader(data.x_train, data.y_train, batch_size=BATCH, seed=seed)

    def one_epoch() -> float:
        history = fit(model, optimizer, loader, epochs=1, schedule=schedule, progress=False)
        return history.seconds[0]

    def accuracy() -> float:
        return evaluate(model, data.x_test, data.y_test)[1]

    return initial, one_epoch, accuracy


def torch_trainer(data, epochs: int, seed: int, initial: dict):
    import torch
    from torch import nn

    class TorchLeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
            self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc1 = nn.Linear(512, 64)
            self.dropout = nn.Dropout(0.5)
            self.fc2 = nn.Linear(64, 10)

        def forward(self, x):
            x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
            x = self.pool(x).flatten(1)
            return self.fc2(self.dropout(torch.relu(self.fc1(x))))

    torch.manual_seed(seed)
    model = TorchLeNet()
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in initial.items()})
    weights = [p for p in model.parameters() if p.ndim >= 2]
    biases = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.SGD([{"params": weights, "weight_decay": WEIGHT_DECAY},
                                 {"params": biases, "weight_decay": 0.0}],
                                lr=LR, momentum=MOMENTUM, nesterov=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda e: 0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * min(e, epochs) / epochs)))
    loader = DataLoader(data.x_train, data.y_train, batch_size=BATCH, seed=seed)
    loss_fn = nn.CrossEntropyLoss()

    def one_epoch() -> float:
        model.train()
        start = time.perf_counter()
        for x, y in loader:
            loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        schedule.step()
        return seconds

    def accuracy() -> float:
        model.eval()
        with torch.no_grad():
            scores = model(torch.from_numpy(data.x_test)).numpy()
        return float((scores.argmax(1) == data.y_test).mean())

    return one_epoch, accuracy


def _summary(seconds: list[float], accuracy: float) -> dict:
    return {"seconds_per_epoch_median": statistics.median(seconds),
            "seconds_per_epoch_min": min(seconds), "test_accuracy": accuracy,
            "seconds": seconds}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2,
                        help="BLAS/PyTorch threads for both (default 2: the CI machine)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    data = load_digits()
    report = {"epochs": args.epochs, "threads": args.threads, "batch_size": BATCH,
              "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
              "numpy": np.__version__}
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: reporting graphgrad only (pip install torch to compare)")
    with threadpool_limits(limits=args.threads):
        initial, gg_epoch, gg_accuracy = graphgrad_trainer(data, args.epochs, args.seed)
        gg_seconds, pt_seconds = [], []
        if torch is not None:
            torch.set_num_threads(args.threads)
            pt_epoch, pt_accuracy = torch_trainer(data, args.epochs, args.seed, initial)
            report["pytorch_version"] = torch.__version__
        # epochs alternate between the two, so a busy machine slows both alike
        for _ in range(args.epochs):
            gg_seconds.append(gg_epoch())
            if torch is not None:
                pt_seconds.append(pt_epoch())
        report["graphgrad"] = _summary(gg_seconds, gg_accuracy())
        if torch is not None:
            report["pytorch"] = _summary(pt_seconds, pt_accuracy())
    if torch is not None:
        report["ratio_median"] = (report["graphgrad"]["seconds_per_epoch_median"]
                                  / report["pytorch"]["seconds_per_epoch_median"])
        report["ratio_min"] = (report["graphgrad"]["seconds_per_epoch_min"]
                               / report["pytorch"]["seconds_per_epoch_min"])

    print(f"LeNet-style CNN on the digits, {args.epochs} epochs, batch {BATCH}, "
          f"{args.threads} thread(s)")
    for name in ("graphgrad", "pytorch"):
        if name in report:
            r = report[name]
            print(f"  {name:9s}: {r['seconds_per_epoch_median']:.3f} s/epoch (median), "
                  f"{r['seconds_per_epoch_min']:.3f} (min); test accuracy "
                  f"{r['test_accuracy']:.4f}")
    if "ratio_median" in report:
        print(f"  graphgrad / pytorch time per epoch: {report['ratio_median']:.2f}x (median), "
              f"{report['ratio_min']:.2f}x (min); target <= 1.5x")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)
    return report


if __name__ == "__main__":
    main()
