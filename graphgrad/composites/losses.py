"""Losses, each built from composites and gates and drawn as one collapsible unit.

Each public loss is declared once (`graphgrad.declare`) with PyTorch's name, argument order and
`reduction=` ("mean", "sum", "none"; `kl_div` adds "batchmean"). The Composite behind it
(`_cross_entropy`) is private and registered in COMPOSITES under the public name; a loss has no
fused forward, so it always builds its gate expansion, which the visualizer draws as one box.
"""

from __future__ import annotations

import math

import numpy as np

from .._primitive import constant_like, primitive
from .._tensor import Tensor
from ..backend import dtype_name, to_numpy
from ..declare import TensorLike, declare
from ..errors import ArgumentError, ShapeError
from ..ops import equal, exp, log, maximum, mean, sum as reduce_sum
from ..ops.elementwise import abs as elementwise_abs, where, where_defined
from .activations import log_softmax
from .registry import composite

_REDUCTIONS = ("mean", "sum", "none")


def _one_hot_forward(xp, labels, *, classes: int, dtype, op: str = "one_hot",
                     ignore_index: int | None = None, weight: tuple[float, ...] | None = None,
                     smoothing: float = 0.0, mean: bool = False):
    """One-hot rows along axis 1. For the class losses, the whole target in one gate: a label
    equal to `ignore_index` gets a row of zeros, `smoothing` mixes each row with 1/C, `weight`
    scales column c by weight[c], and `mean` multiplies by (number of positions) / (summed
    weights of the labels counted), so that the plain average of the per-position losses is
    PyTorch's weighted mean (a factor of exactly 1 when every position counts 1; NaN when none
    counts: PyTorch's 0/0)."""
    keep = None if ignore_index is None else labels != ignore_index
    checked = labels if keep is None else xp.where(keep, labels, 0)
    if labels.size and (int(xp.min(checked)) < 0 or int(xp.max(checked)) >= classes):
        also = "" if ignore_index is None else f" (or be ignore_index={ignore_index})"
        raise ShapeError(f"{op}: labels must lie in [0, {classes - 1}] for {classes} "
                         f"classes{also}")
    axis_shape = (1, classes) + (1,) * (labels.ndim - 1)
    hits = xp.expand_dims(labels, axis=1) == xp.reshape(xp.arange(classes), axis_shape)
    if keep is not None:
        hits = hits & xp.expand_dims(keep, axis=1)
    rows = xp.astype(hits, dtype)
    if weight is None and not smoothing and not mean:
        return rows
    scale = None if weight is None else xp.reshape(xp.asarray(weight, dtype=dtype), axis_shape)
    total = float(xp.sum(rows if scale is None else rows * scale))  # the weights counted
    if smoothing:
        counted = xp.ones_like(rows) if keep is None else xp.astype(
            xp.expand_dims(keep, axis=1), dtype)
        rows = rows * (1.0 - smoothing) + counted * (smoothing / classes)
    if scale is not None:
        rows = rows * scale
    if mean:
        positions = math.prod(labels.shape)
        rows = rows * (positions / total if total else math.nan)
    return rows


# a gate, not a constant made on the host: gg.compile's generated code uses each batch's labels
one_hot = primitive("one_hot", symbol="one-hot", forward=_one_hot_forward, vjp=None,
                    register=False, doc="integer labels (N, *d) as one-hot rows (N, C, *d)")


def _check_reduction(op: str, reduction: str, valid: tuple[str, ...] = _REDUCTIONS) -> None:
    if reduction not in valid:
        raise ArgumentError(f"{op}: reduction must be one of {', '.join(map(repr, valid))}, "
                            f"got {reduction!r}")


def _reduce(values: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return mean(values)
    if reduction == "sum":
        return reduce_sum(values)
    if reduction == "none":
        return values
    raise ArgumentError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _labels(op: str, scores: Tensor, targets, allow_distribution: bool,
            ignore_index: int | None = None):
    """Integer labels (N, *d) for scores (N, C, *d), checked (a label equal to `ignore_index`
    may lie outside [0, C)); a float (N, C, *d) distribution is returned as a constant where
    `allow_distribution`. Returns (kind, value)."""
    if scores.ndim < 2:
        raise ShapeError(f"{op}: input must have shape (N, C) or (N, C, d1, ...), "
                         f"got {scores.shape}")
    if allow_distribution and isinstance(targets, Tensor) and targets.shape == scores.shape:
        return "distribution", targets
    labels = to_numpy(targets.data if isinstance(targets, Tensor) else np.asarray(targets))
    if allow_distribution and labels.shape == scores.shape and labels.dtype.kind == "f":
        return "distribution", constant_like(labels.astype(dtype_name(scores.dtype)), scores)
    classes = scores.shape[1]
    label_shape = scores.shape[:1] + scores.shape[2:]
    if labels.shape != label_shape or labels.dtype.kind not in "iu":
        also = f" or a distribution of shape {scores.shape}" if allow_distribution else ""
        raise ShapeError(
            f"{op}: targets must be integer labels of shape {label_shape}{also}; got shape "
            f"{labels.shape} and dtype {labels.dtype}"
        )
    counted = labels if ignore_index is None else labels[labels != ignore_index]
    if counted.size and (counted.min() < 0 or counted.max() >= classes):
        also = "" if ignore_index is None else f" (or be ignore_index={ignore_index})"
        raise ShapeError(
            f"{op}: labels must lie in [0, {classes - 1}] for {classes} classes{also}; "
            f"got values from {counted.min()} to {counted.max()}"
        )
    return "labels", labels


def _one_hot_of(op: str, scores: Tensor, targets, labels: np.ndarray,
                ignore_index: int | None = None) -> Tensor:
    """The labels as one-hot rows along axis 1 of the scores (rows of zeros where a label is
    `ignore_index`): a gate when the labels are a Tensor on the scores' device (gg.compile reads
    each batch's), a constant otherwise."""
    classes = scores.shape[1]
    if _labels_in_graph(scores, targets):
        params = {} if ignore_index is None else {"ignore_index": ignore_index}
        return one_hot(targets, classes=classes, dtype=scores.data.dtype, op=op, **params)
    keep = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    rows = np.eye(classes, dtype=dtype_name(scores.dtype))[np.where(keep, labels, 0)]
    rows *= keep[..., None]                                                    # (N, *d, C)
    return constant_like(np.ascontiguousarray(np.moveaxis(rows, -1, 1)), scores)


def _labels_in_graph(scores: Tensor, targets) -> bool:
    return isinstance(targets, Tensor) and targets.device is scores.device


def _same_shape_target(op: str, input: Tensor, target):
    target_shape = tuple(target.shape) if isinstance(target, Tensor) else np.shape(target)
    # (N, 1) - (N,) would broadcast to (N, N)
    if target_shape != input.shape and target_shape != ():
        raise ShapeError(f"{op}: input shape {input.shape} and target shape {target_shape} "
                         f"differ; reshape one so they match")
    return target


# ----- cross-entropy and its halves ---------------------------------------------------------------
def _class_weight(op: str, scores: Tensor, weight) -> np.ndarray | None:
    """PyTorch's `weight=`: one number per class, shape (C,), as a host array of the scores'
    dtype. A constant, as in PyTorch (which has no gradient for it)."""
    if weight is None:
        return None
    classes = scores.shape[1]
    values = to_numpy(weight.data) if isinstance(weight, Tensor) else np.asarray(weight)
    if values.shape != (classes,) or values.dtype.kind not in "biuf":
        raise ShapeError(f"{op}: weight must hold one number per class, shape ({classes},) for "
                         f"input {scores.shape}; got shape {values.shape} and dtype "
                         f"{values.dtype}")
    return values.astype(dtype_name(scores.dtype))


def _per_class(values: np.ndarray, scores: Tensor) -> Tensor:
    """A (C,) array as a constant (1, C, 1, ...) that broadcasts along the scores' axis 1."""
    shape = (1, values.shape[0]) + (1,) * (scores.ndim - 2)
    return constant_like(values.reshape(shape), scores)


def _check_ignore_index(op: str, ignore_index: int) -> None:
    if ignore_index != -100:
        raise ArgumentError(f"{op}: ignore_index applies to integer class labels only; the "
                            f"targets are class probabilities (give ignore_index=-100, the "
                            f"default, or integer labels)")


def _class_nll(op: str, log_probs: Tensor, targets, labels: np.ndarray, weight, ignore_index: int,
               reduction: str, smoothing: float = 0.0) -> Tensor:
    """PyTorch's weighted, ignore-aware nll_loss of integer labels, with cross_entropy's label
    smoothing: -sum(T * log_probs, 1), reduced, with the target T of one gate
    (`_one_hot_forward`: per position (1 - eps) w[y] at y plus eps/C w[c] everywhere, 0 where
    ignored; for "mean" rescaled so that the average over positions divides by the total weight
    of the labels counted)."""
    weights = _class_weight(op, log_probs, weight)
    options: dict = {"classes": log_probs.shape[1], "op": op, "ignore_index": ignore_index,
                     "mean": reduction == "mean"}
    if weights is not None:
        options["weight"] = tuple(float(w) for w in weights)
    if smoothing:
        options["smoothing"] = smoothing
    nothing = False
    if _labels_in_graph(log_probs, targets):   # gg.compile reads each batch's labels
        rows = one_hot(targets, dtype=log_probs.data.dtype, **options)
    else:
        kept = labels != ignore_index
        total = weights[labels[kept]].sum() if weights is not None else kept.sum()
        # "mean" of nothing: NaN, as PyTorch's 0/0, with PyTorch's zero gradient (the gate's
        # NaN rows above give a NaN one)
        nothing = options["mean"] and not total
        options["mean"] = options["mean"] and not nothing
        rows = constant_like(_one_hot_forward(np, labels, dtype=np.dtype(dtype_name(
            log_probs.dtype)), **options), log_probs)
    loss = _reduce(-reduce_sum(rows * log_probs, axis=1), reduction, op)
    return loss + math.nan if nothing else loss


def _cross_entropy_expand(logits: Tensor, targets, reduction: str = "mean", weight=None,
                          ignore_index: int = -100, label_smoothing: float = 0.0) -> Tensor:
    op = "cross_entropy"
    kind, value = _labels(op, logits, targets, allow_distribution=True, ignore_index=ignore_index)
    log_probs = log_softmax(logits, axis=1)
    if kind == "labels":
        return _class_nll(op, log_probs, targets, value, weight, ignore_index, reduction,
                          label_smoothing)
    _check_ignore_index(op, ignore_index)
    if label_smoothing:
        value = value * (1.0 - label_smoothing) + label_smoothing / logits.shape[1]
    terms = value * log_probs
    weights = _class_weight(op, logits, weight)
    if weights is not None:
        terms = terms * _per_class(weights, logits)
    return _reduce(-reduce_sum(terms, axis=1), reduction, op)   # "mean": over positions


_cross_entropy = composite(
    "cross_entropy", expand=_cross_entropy_expand,
    doc="Softmax cross-entropy of logits against integer labels or target distributions.",
)


@declare
def cross_entropy(input: Tensor, target: TensorLike, weight: TensorLike | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy -sum(t * log_softmax(input, 1), 1) (torch.nn.functional.cross_entropy,
    with PyTorch's arguments and semantics).

    `input`: logits (N, C); `target`: integer labels (N,) in [0, C) or distributions (N, C)
    such as one-hot rows. As in PyTorch, logits (N, C, d1, ...) take labels (N, d1, ...), one per
    position (segmentation). `weight` (C,): a rescaling per class; with labels, "mean" divides
    by the summed weights of the targets, not by N. Labels equal to `ignore_index` count
    nothing, neither in the sum nor in the mean's denominator ("mean" of nothing is NaN, as
    PyTorch's, with its zero gradient for labels given as an array; Tensor labels, which
    gg.compile re-reads per batch, give a NaN one); with distributions ignore_index must stay
    -100.
    `label_smoothing` eps in [0, 1] mixes the target with the uniform distribution:
    (1 - eps) t + eps / C. Stable for large logits (log-sum-exp). Gradient with respect to the
    logits: w (softmax(input) - t) per position (/ the total weight for "mean").
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"cross_entropy: label_smoothing must lie in [0, 1], got "
                            f"{label_smoothing!r}")
    return _cross_entropy(input, target, reduction, weight, ignore_index, float(label_smoothing))


def _nll_loss_expand(log_probs: Tensor, targets, reduction: str = "mean", weight=None,
                     ignore_index: int = -100) -> Tensor:
    _, labels = _labels("nll_loss", log_probs, targets, allow_distribution=False,
                        ignore_index=ignore_index)
    return _class_nll("nll_loss", log_probs, targets, labels, weight, ignore_index, reduction)


_nll_loss = composite(
    "nll_loss", expand=_nll_loss_expand,
    doc="Negative log-likelihood: minus the log-probability of each target class.",
)


@declare
def nll_loss(input: Tensor, target: TensorLike, weight: TensorLike | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood -weight[t] * input[n, t] with t = target[n]
    (torch.nn.functional.nll_loss, with PyTorch's arguments and semantics).

    `input`: log-probabilities (N, C) or (N, C, d1, ...), usually from `log_softmax(x, 1)`;
    `target`: integer labels (N,) or (N, d1, ...) in [0, C), or equal to `ignore_index` (those
    positions count nothing). `weight` (C,): a rescaling per class; "mean" divides by the summed
    weights of the targets not ignored (NaN when there are none, as PyTorch's).
    `nll_loss(log_softmax(x, 1), t)` is `cross_entropy(x, t)`. Gradient: -weight[t] at each
    target entry (/ the total weight for "mean"), 0 elsewhere.
    """
    _check_reduction("nll_loss", reduction)
    return _nll_loss(input, target, reduction, weight, ignore_index)


# ----- regression ---------------------------------------------------------------------------------
def _mse_loss_expand(input: Tensor, target, reduction: str = "mean") -> Tensor:
    diff = input - _same_shape_target("mse_loss", input, target)
    return _reduce(diff * diff, reduction, "mse_loss")


_mse_loss = composite(
    "mse_loss", expand=_mse_loss_expand,
    doc="Mean squared error (PyTorch's meaning).",
)


@declare
def mse_loss(input: Tensor, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Squared error (input - target)^2, averaged by default (torch.nn.functional.mse_loss).

    The notes' E = ½Σ(t−y)² is `0.5 * gg.mse_loss(y, t, reduction='sum')`. Shapes must match
    (or the target is a scalar): (N, 1) against (N,) would broadcast to (N, N). Gradient:
    2 (input - target) (/ the count for "mean").
    """
    _check_reduction("mse_loss", reduction)
    return _mse_loss(input, target, reduction)


def _l1_loss_expand(input: Tensor, target, reduction: str = "mean") -> Tensor:
    diff = input - _same_shape_target("l1_loss", input, target)
    return _reduce(elementwise_abs(diff), reduction, "l1_loss")


_l1_loss = composite("l1_loss", expand=_l1_loss_expand, doc="Absolute error |input - target|.")


@declare
def l1_loss(input: Tensor, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Absolute error |input - target|, averaged by default (torch.nn.functional.l1_loss).

    Gradient: sign(input - target) (/ the count for "mean"); 0 where they are equal (the abs
    gate's rule). Shapes must match, as for `mse_loss`.
    """
    _check_reduction("l1_loss", reduction)
    return _l1_loss(input, target, reduction)


def _huber(diff: Tensor, delta: float) -> Tensor:
    size = elementwise_abs(diff)
    return where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))


def _huber_loss_expand(input: Tensor, target, reduction: str = "mean", delta: float = 1.0):
    diff = input - _same_shape_target("huber_loss", input, target)
    return _reduce(_huber(diff, delta), reduction, "huber_loss")


_huber_loss = composite(
    "huber_loss", expand=_huber_loss_expand,
    doc="Squared error within delta, linear beyond.",
)


def _positive(op: str, name: str, value: float) -> float:
    if not value > 0 or not math.isfinite(value):
        raise ArgumentError(f"{op}: {name} must be a finite number > 0, got {value!r}")
    return float(value)


@declare
def huber_loss(input: Tensor, target: TensorLike, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """Huber loss (torch.nn.functional.huber_loss): with d = input - target, ½d² where
    |d| < delta and delta (|d| - ½delta) elsewhere, averaged by default.

    Gradient: d clipped to [-delta, delta]: outliers pull no harder than delta. Continuous
    first derivative; the second jumps at |d| = delta.
    """
    _check_reduction("huber_loss", reduction)
    delta = _positive("huber_loss", "delta", delta)
    return _huber_loss(input, target, reduction, delta)


def _smooth_l1_loss_expand(input: Tensor, target, reduction: str = "mean", beta: float = 1.0):
    diff = input - _same_shape_target("smooth_l1_loss", input, target)
    return _reduce(_huber(diff, beta) * (1.0 / beta), reduction, "smooth_l1_loss")


_smooth_l1_loss = composite(
    "smooth_l1_loss", expand=_smooth_l1_loss_expand,
    doc="Huber loss divided by beta.",
)


@declare
def smooth_l1_loss(input: Tensor, target: TensorLike, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1 loss (torch.nn.functional.smooth_l1_loss): ½d²/beta where |d| < beta,
    |d| - ½beta elsewhere; `huber_loss(delta=beta) / beta`.

    Gradient: d / beta clipped to [-1, 1]. (PyTorch's beta=0, plain L1, is `l1_loss` here.)
    """
    _check_reduction("smooth_l1_loss", reduction)
    beta = _positive("smooth_l1_loss", "beta", beta)
    return _smooth_l1_loss(input, target, reduction, beta)


# ----- distributions ------------------------------------------------------------------------------
_KL_REDUCTIONS = ("batchmean", "sum", "mean", "none")


def _kl_div_expand(input: Tensor, target, reduction: str = "mean", log_target: bool = False):
    target = _binary_target("kl_div", "input", input, target)
    if log_target:
        pointwise = exp(target) * (target - input)
    else:  # t log t is 0 where t = 0 (xlogy), with gradient 0 there
        pointwise = target * (where_defined(target > 0.0, log, target, 0.0) - input)
    if reduction == "batchmean":
        total = reduce_sum(pointwise)
        return total * (1.0 / input.shape[0]) if input.ndim else total
    return _reduce(pointwise, reduction, "kl_div")


_kl_div = composite(
    "kl_div", expand=_kl_div_expand,
    doc="Kullback-Leibler divergence of the target from the input distribution.",
)


@declare
def kl_div(input: Tensor, target: TensorLike, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence sum t (log t - input) (torch.nn.functional.kl_div, scipy.special.rel_entr).

    `input` holds log-probabilities (from `log_softmax`), `target` probabilities (or
    log-probabilities with `log_target=True`), same shape. reduction: "batchmean" (the sum over
    the batch divided by N: the true KL per sample), "sum", "mean" (over every element, PyTorch's
    default, which PyTorch warns is not the KL) or "none". Terms with t = 0 count 0.
    Gradient with respect to the input: -t (/ N or the count).
    """
    _check_reduction("kl_div", reduction, _KL_REDUCTIONS)
    return _kl_div(input, target, reduction, log_target)


def _multi_margin_expand(scores: Tensor, targets, reduction: str = "mean", margin: float = 1.0,
                         per_class: bool = True):
    op = "multi_margin_loss" if per_class else "svm_loss"
    _, labels = _labels(op, scores, targets, allow_distribution=False)
    is_target = _one_hot_of(op, scores, targets, labels)
    correct = reduce_sum(is_target * scores, axis=1, keepdims=True)
    # the target class itself scores max(0, margin) = margin: taken off again below
    hinges = maximum(scores - correct + margin, 0.0) * (1.0 - is_target)
    per_sample = reduce_sum(hinges, axis=1)
    if per_class:
        per_sample = per_sample * (1.0 / scores.shape[1])
    return _reduce(per_sample, reduction, op)


_multi_margin_loss = composite(
    "multi_margin_loss", expand=_multi_margin_expand,
    doc="Multiclass hinge loss, divided by the number of classes (PyTorch's).",
)
_svm_loss = composite(
    "svm_loss", expand=lambda s, t, reduction="mean", margin=1.0: _multi_margin_expand(
        s, t, reduction, margin, per_class=False),
    doc="The multiclass SVM loss: sum over wrong classes of max(0, s_j - s_y + margin).",
)


def _check_scores(op: str, input: Tensor, target, reduction: str, margin: float) -> None:
    _check_reduction(op, reduction)
    if not math.isfinite(margin):
        raise ArgumentError(f"{op}: margin must be a finite number, got {margin!r}")
    if input.ndim != 2:
        raise ShapeError(f"{op}: input must be class scores of shape (N, C), got {input.shape}")


@declare
def svm_loss(input: Tensor, target: TensorLike, reduction: str = "mean",
             margin: float = 1.0) -> Tensor:
    """Multiclass SVM (hinge) loss (Weston-Watkins, as CS231n teaches it): per sample, the sum
    over the wrong classes j of max(0, s_j - s_y + margin), s_y the target class's score;
    averaged over N.

    `input`: scores (N, C); `target`: integer labels (N,). This is C times
    torch.nn.functional.multi_margin_loss, which divides by the number of classes (see
    `multi_margin_loss`). Gradient: +1 for every wrong
    class inside the margin, minus their count for the target class (the hinge gate's routing;
    at exactly the margin the max gate's tie passes half).
    """
    _check_scores("svm_loss", input, target, reduction, margin)
    return _svm_loss(input, target, reduction, margin)


@declare
def multi_margin_loss(input: Tensor, target: TensorLike, p: int = 1, margin: float = 1.0,
                      reduction: str = "mean") -> Tensor:
    """Multiclass hinge loss as PyTorch's torch.nn.functional.multi_margin_loss: per sample,
    sum over j != y of max(0, margin - s_y + s_j), divided by the number of classes C.

    `svm_loss` is the same without the division by C. Only p=1 (PyTorch's default); `weight`
    is not supported.
    """
    if p != 1:
        raise ArgumentError(f"multi_margin_loss: only p=1 is supported, got p={p!r}")
    _check_scores("multi_margin_loss", input, target, reduction, margin)
    return _multi_margin_loss(input, target, reduction, margin)


# ----- binary -------------------------------------------------------------------------------------
def _binary_target(op: str, what: str, scores: Tensor, target) -> Tensor:
    """Targets as a constant of the scores' dtype and device, with the same shape."""
    if not isinstance(target, Tensor):
        try:
            target = constant_like(np.asarray(target, dtype=dtype_name(scores.dtype)), scores)
        except OverflowError:  # 2**63 as a target of int64 scores
            raise ArgumentError(f"{op}: the target {target!r} does not fit the dtype of the "
                                f"{what}, {scores.dtype}") from None
    if target.shape != scores.shape:
        raise ShapeError(f"{op}: {what} {scores.shape} and targets {target.shape} differ; "
                         "give one target per element")
    return target


# PyTorch's floor for the logs of binary_cross_entropy: log(0) counts as -100, so a probability
# of exactly 0 or 1 gives a finite loss, and every other one its exact log (an `eps` added inside
# the log, as before, shifted the loss of probabilities within 1e-12 of 0 or 1 by several units)
_LOG_FLOOR = -100.0


def _floored_log(p: Tensor) -> Tensor:
    """log(p), or -100 (gradient 0) where p <= e^-100. The test is "not at or below the floor"
    rather than "above it": NaN fails every comparison and must reach the log (NaN in, NaN out),
    not the floor (which made NaN probabilities a finite loss of 100)."""
    above_floor = equal(p <= math.exp(_LOG_FLOOR), False)
    return where_defined(above_floor, log, p, _LOG_FLOOR)


def _binary_cross_entropy_expand(probs: Tensor, target, reduction: str = "mean") -> Tensor:
    target = _binary_target("binary_cross_entropy", "probabilities", probs, target)
    losses = -(target * _floored_log(probs) + (1.0 - target) * _floored_log(1.0 - probs))
    return _reduce(losses, reduction, "binary_cross_entropy")


_binary_cross_entropy = composite(
    "binary_cross_entropy", expand=_binary_cross_entropy_expand,
    doc="Cross-entropy of probabilities against targets in [0, 1], logs floored at -100.",
)


@declare
def binary_cross_entropy(input: Tensor, target: TensorLike, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1] and targets t in [0, 1]
    (torch.nn.functional.binary_cross_entropy), each log floored at -100 as in PyTorch.

    For logits prefer `binary_cross_entropy_with_logits`, which is stable. Gradient:
    (p - t) / (p (1 - p)).
    """
    _check_reduction("binary_cross_entropy", reduction)
    return _binary_cross_entropy(input, target, reduction)


def _bce_with_logits_expand(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    target = _binary_target("binary_cross_entropy_with_logits", "logits", logits, target)
    # max(x, 0) - x t + log(1 + exp(-|x|)): exp never overflows
    losses = maximum(logits, 0.0) - logits * target + log(1.0 + exp(-elementwise_abs(logits)))
    return _reduce(losses, reduction, "binary_cross_entropy_with_logits")


_binary_cross_entropy_with_logits = composite(
    "binary_cross_entropy_with_logits", expand=_bce_with_logits_expand,
    doc="Binary cross-entropy of raw scores: sigmoid and log fused for stability.",
)


@declare
def binary_cross_entropy_with_logits(input: Tensor, target: TensorLike,
                                     reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of raw scores x: `binary_cross_entropy(sigmoid(x), t)` computed as
    max(x, 0) - x t + log(1 + e^-|x|), which never overflows
    (torch.nn.functional.binary_cross_entropy_with_logits). Gradient: σ(x) - t.
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    return _binary_cross_entropy_with_logits(input, target, reduction)


__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "huber_loss", "kl_div", "l1_loss", "mse_loss", "multi_margin_loss", "nll_loss",
           "smooth_l1_loss", "svm_loss"]
