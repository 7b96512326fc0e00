"""Look inside the digits CNN: one figure per technique of the lecture notes.

    python examples/inspect_digits.py                    # train 15 epochs, figures in docs/images
    python examples/inspect_digits.py --checkpoint demo_out/model.npz   # reuse `graphgrad demo`'s
    python examples/inspect_digits.py --quick --out /tmp/figs saliency occlusion

Kernels and activations, saliency, occlusion, class models, deep dream, deconvnet and guided
backprop, adversarial examples (FGSM and the targeted minimal perturbation), t-SNE of CNN codes
(scikit-learn) and nearest neighbours, Gabor bank and fits, separable approximations, receptive
fields with and without dilation, and a convolution as a matrix. See docs/inspect.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from graphgrad.inspection.report import FIGURES, load_or_train, run

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("techniques", nargs="*", default=[], metavar="TECHNIQUE",
                        help=f"any of {', '.join(FIGURES)} (default: all)")
    parser.add_argument("--checkpoint", help="LeNet weights written by gg.save / graphgrad demo")
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="output folder")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="seconds instead of a minute or two")
    args = parser.parse_args(argv)
    unknown = [t for t in args.techniques if t not in FIGURES and t != "all"]
    if unknown:
        parser.error(f"unknown technique(s) {unknown}; valid: {', '.join(FIGURES)} or all")
    start = time.perf_counter()
    context = load_or_train(args.checkpoint, epochs=args.epochs, seed=args.seed, quick=args.quick)
    print(f"LeNet test accuracy: {context.accuracy():.4f} "
          f"({time.perf_counter() - start:.1f} s to {'load' if args.checkpoint else 'train'})")
    run(context, args.out, args.techniques or None)
    print(f"done in {time.perf_counter() - start:.1f} s; figures in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
