"""`graphgrad inspect [TECHNIQUE ...]`: the lecture's look-inside-a-CNN figures, without code.

Loads a LeNet checkpoint written by `graphgrad demo` (`--checkpoint demo_out/model.npz`) or trains
one on the digits in a few seconds, then writes `inspect_<technique>.png` figures into `--out` and
prints what each one measured. Techniques: kernels, saliency, occlusion, class-model, deep-dream,
guided, adversarial, tsne, gabor, separable, receptive-field, conv-matrix (default: all).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    from graphgrad.inspection.report import FIGURES

    parser = subparsers.add_parser(
        "inspect", help="figures that look inside a trained digits CNN (saliency, occlusion, ...)",
        description=__doc__.split("\n\n")[0])
    parser.add_argument("techniques", nargs="*", metavar="TECHNIQUE",
                        default=[],
                        help=f"any of {', '.join(FIGURES)}, or all (default)")
    parser.add_argument("--checkpoint", default=None,
                        help="a LeNet checkpoint (gg.save), e.g. demo_out/model.npz; "
                             "default: train one now")
    parser.add_argument("--out", default="inspect_out", help="output folder (default inspect_out)")
    parser.add_argument("--epochs", type=int, default=15, help="training epochs without a "
                        "checkpoint (default 15)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the model and the batches")
    parser.add_argument("--quick", action="store_true",
                        help="a fast, rough version of everything (2 epochs, fewer images/steps)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from graphgrad.inspection.report import FIGURES, load_or_train, run as run_report

    unknown = [t for t in args.techniques if t not in FIGURES and t != "all"]
    if unknown:
        print(f"graphgrad inspect: unknown technique(s) {unknown}; valid: "
              f"{', '.join(FIGURES)} or all")
        return 2
    if args.checkpoint is not None and not Path(args.checkpoint).is_file():
        print(f"graphgrad inspect: no checkpoint at {args.checkpoint} (write one with "
              f"`graphgrad demo --out DIR`, then pass DIR/model.npz)")
        return 2
    context = load_or_train(args.checkpoint, epochs=args.epochs, seed=args.seed, quick=args.quick)
    print(f"model: LeNet, test accuracy {context.accuracy():.4f}"
          + (f" (from {args.checkpoint})" if args.checkpoint else ""))
    run_report(context, Path(args.out), args.techniques or None)
    print(f"figures in {args.out}/")
    return 0
