"""Transfer learning as in the lecture: train, freeze, swap the head, fine-tune with smaller rates.

1. Train a LeNet on the digits 0-4 (the "ImageNet" of this example: plenty of data).
2. Small target data set: the digits 5-9 with only a few examples per class. Freeze all weights
   (the CNN as a fixed feature extractor), swap the last layer for a new 5-way head, train only it.
3. Fine-tune: unfreeze, train the head at the full rate, fc1 at ~1/10 and the convolutions at
   ~1/100 of it (the lecture's tip), with parameter groups.
Compare with the same small data trained from scratch.

    python examples/transfer_finetune.py [--quick] [--per-class N]
"""

from __future__ import annotations

import argparse

import numpy as np

from graphgrad import nn, optim
from graphgrad.data import load_digits
from graphgrad.train import evaluate, fit


def subset(x, y, classes, per_class=None, seed=0):
    rng = np.random.default_rng(seed)
    keep = []
    for c in classes:
        index = np.flatnonzero(y == c)
        keep.extend(index if per_class is None else rng.choice(index, per_class, replace=False))
    keep = np.sort(np.asarray(keep))
    return x[keep], y[keep] - min(classes)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (for CI)")
    parser.add_argument("--per-class", type=int, default=10, help="target examples per class")
    args = parser.parse_args(argv)
    source_epochs, head_epochs, tune_epochs = (3, 10, 5) if args.quick else (10, 30, 15)

    data = load_digits()
    xs, ys = subset(data.x_train, data.y_train, range(5))
    xt, yt = subset(data.x_train, data.y_train, range(5, 10), per_class=args.per_class)
    xt_test, yt_test = subset(data.x_test, data.y_test, range(5, 10))

    # 1. source task
    model = nn.LeNet(num_classes=5, rng=0)
    fit(model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9), (xs, ys),
        epochs=source_epochs, progress=False)

    # 2. fixed feature extractor + new head
    conv_before = model.conv1.weight.numpy().copy()
    model.freeze()
    model.fc2 = nn.Linear(model.fc2.in_features, 5, init="xavier", rng=1)  # new, trainable
    head_opt = optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.01)
    fit(model, head_opt, (xt, yt), epochs=head_epochs, batch_size=16, progress=False)
    _, frozen_acc = evaluate(model, xt_test, yt_test)
    frozen_kept = bool(np.array_equal(model.conv1.weight.numpy(), conv_before))

    # 3. fine-tune everything with per-group rates: head 1, fc1 1/10, convolutions 1/100
    model.unfreeze()
    base = 0.02
    tune_opt = optim.SGD([
        {"params": model.fc2.parameters(), "lr": base},
        {"params": model.fc1.parameters(), "lr": base / 10},
        {"params": model.conv1.parameters() + model.conv2.parameters(), "lr": base / 100},
    ], lr=base, momentum=0.9)
    fit(model, tune_opt, (xt, yt), epochs=tune_epochs, batch_size=16, progress=False)
    _, tuned_acc = evaluate(model, xt_test, yt_test)
    conv_change = float(np.abs(model.conv1.weight.numpy() - conv_before).max())

    # baseline: the same small target set from scratch
    scratch = nn.LeNet(num_classes=5, rng=2)
    fit(scratch, optim.Adam(scratch.parameters(), lr=0.01), (xt, yt),
        epochs=head_epochs + tune_epochs, batch_size=16, progress=False)
    _, scratch_acc = evaluate(scratch, xt_test, yt_test)

    print(f"target task (digits 5-9, {args.per_class} training images per class), test accuracy:")
    print(f"  frozen features + new head : {frozen_acc:.3f}")
    print(f"  fine-tuned (1, 1/10, 1/100) : {tuned_acc:.3f}")
    print(f"  from scratch                : {scratch_acc:.3f}")
    print(f"  conv1 unchanged while frozen: {frozen_kept}; largest change after fine-tuning at "
          f"1/100 of the rate: {conv_change:.2e}")
    return {"frozen": frozen_acc, "finetuned": tuned_acc, "scratch": scratch_acc,
            "frozen_kept": frozen_kept, "conv_change": conv_change}


if __name__ == "__main__":
    main()
