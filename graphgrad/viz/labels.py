"""Number formatting, tensor summaries and the ONE escaping helper of the visualizer.

Every piece of user text (tensor names, module names, op parameters) goes through `escape()` before
it reaches DOT: names come from users, and a name with quotes, `<`, `&`, braces, backslashes or
newlines must neither break the DOT file nor inject markup into it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..summary import ArraySummary

# Characters XML (and so Graphviz's HTML-like labels) cannot carry at all: C0 controls except
# tab/newline/carriage return, lone surrogates, and the two non-characters U+FFFE/U+FFFF.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

_HTML_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    # Graphviz expands escString escapes (\N node id, \G graph name, \E, \L, \T, \H) inside
    # HTML-like labels too, after decoding entities: a backslash written as two entities comes
    # out as one (checked against dot 2.43 in tests/viz/test_escapes.py)
    "\\": "&#92;&#92;",
    "{": "&#123;",
    "}": "&#125;",
    "|": "&#124;",
    "[": "&#91;",
    "]": "&#93;",
}
_HTML_SPECIAL = re.compile("[&<>\"'\\\\{}|\\[\\]]")

CONTEXTS = ("html", "dot")


def escape(text: object, context: str = "html") -> str:
    """Make user text safe for Graphviz.

    `context="html"`: for the inside of an HTML-like label (`label=<...>`): XML entities for
    `& < > " '`, numeric entities for braces, `|` and brackets, a backslash as two numeric
    entities (Graphviz halves them), newlines as `<BR/>`.
    `context="dot"`: for a quoted escString attribute such as a tooltip: a backslash becomes four
    (Graphviz unescapes tooltips twice), `&` becomes `&amp;` (Graphviz keeps entities in SVG),
    quotes are escaped, newlines become `\\n`. The result
    goes between double quotes (see `dot_string`).
    In both contexts characters that XML cannot hold are replaced by U+FFFD.
    """
    if context not in CONTEXTS:
        raise ValueError(f"escape(): unknown context {context!r}; valid contexts: {CONTEXTS}")
    text = _XML_INVALID.sub("\ufffd", str(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if context == "html":
        text = _HTML_SPECIAL.sub(lambda match: _HTML_ENTITIES[match.group()], text)
        return text.replace("\n", "<BR/>").replace("\t", " ")
    # Graphviz expands \N, \G, \L ... in tooltips before it unescapes "\\": a backslash must be
    # written as four to come out as one (checked against dot 2.43 in tests/viz/test_labels.py).
    # It also passes "&...;" through to SVG as an entity, so "&" is written as "&amp;".
    text = text.replace("&", "&amp;").replace("\\", "\\\\\\\\").replace('"', '\\"')
    return text.replace("\n", "\\n").replace("\t", " ")


def dot_string(text: object) -> str:
    """User text ready to be an escString attribute value (tooltips, plain labels) of a Digraph.

    The `graphviz` package quotes attribute values itself (escaping quotes, keeping escaped
    backslashes) and would read a value that looks like `<...>` as HTML: we hand it the escaped text
    marked `nohtml`.
    """
    from graphviz import nohtml

    return nohtml(escape(text, "dot"))


def html_label(inner_html: str) -> str:
    """Wrap trusted HTML (built only from `escape()`d pieces) as an HTML-like DOT label."""
    return "<" + inner_html + ">"


# --------------------------------------------------------------------------------------------
# Numbers


def format_number(x: float, precision: int = 2) -> str:
    """Lecture-style number: fixed point with `precision` decimals, scientific when tiny or huge.

    `-0.00` prints as `0.00`; NaN and infinities print as `nan`, `inf`, `-inf`.
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    magnitude = abs(x)
    if magnitude != 0 and (magnitude < 10 ** (-precision) / 2 or magnitude >= 1e5):
        return f"{x:.{max(precision - 1, 0)}e}"
    text = f"{x:.{precision}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text


MAX_RECIPROCAL = 1000  # a constant that is exactly 1/n in its dtype, n <= this, draws as "/n"


def format_constant(value) -> str:
    """A folded constant exactly enough to be right: the shortest text that reads back as the
    same number in the constant's own dtype (`0.1` stored as float32 prints `0.1`, not
    `0.10000000149`), scientific only when positional would be long (`1e-08`).

    Why not `format_number`: a gate label is the op itself, so `*0.5` must not round to `*0`.
    """
    a = np.asarray(value)
    if a.dtype.kind in "biu":
        return str(a.reshape(()).item())
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    x = dtype.type(a.reshape(()).item())  # a NumPy scalar keeps its precision for `unique`
    if not np.isfinite(x):
        return format_number(float(x))
    if x == 0:
        return "0"
    if 1e-4 <= abs(x) < 1e6:
        return np.format_float_positional(x, unique=True, trim="-")
    return np.format_float_scientific(x, unique=True, trim="-", exp_digits=1)


def reciprocal_of(value) -> int | None:
    """n when `value` is exactly the reciprocal 1/n of a small integer in its own dtype and its
    shortest text is long (1/3, not 1/2 = 0.5): a mean over 3 items draws as `/3`, not `*0.3333`."""
    a = np.asarray(value)
    if a.dtype.kind != "f" or a.size != 1:
        return None
    x = a.dtype.type(a.reshape(()).item())
    if x == 0 or not np.isfinite(x) or len(format_constant(a).lstrip("-")) <= 6:
        return None
    one = np.ones((), a.dtype)
    n = int(round(float(one / abs(x))))
    if 2 <= n <= MAX_RECIPROCAL and one / np.asarray(n, a.dtype) == abs(x):
        return n if x > 0 else -n
    return None


def format_shape(shape: tuple[int, ...]) -> str:
    if len(shape) == 0:
        return "scalar"
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


@dataclass(frozen=True)
class Stats:
    """Summary statistics of an array, in float64 (NaN-aware counts included)."""

    size: int
    mean: float
    std: float
    min: float
    max: float
    norm: float
    nonfinite: int

    def describe(self, precision: int = 3) -> str:
        def f(v) -> str:
            return format_number(v, precision)

        text = (
            f"mean {f(self.mean)}  std {f(self.std)}  min {f(self.min)}  max {f(self.max)}"
            f"  norm {f(self.norm)}"
        )
        if self.nonfinite:
            text += f"  non-finite {self.nonfinite}"
        return text

    @property
    def rms(self) -> float:
        return self.norm / math.sqrt(self.size) if self.size else 0.0


def stats(array: np.ndarray) -> Stats:
    """The engine's statistics of a released array (graphgrad.summary), in float64."""
    a = np.asarray(array)
    if a.size == 0:
        return Stats(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0)
    s = ArraySummary.of(a.astype(np.float64, copy=False), np)
    return Stats(int(a.size), s.mean, s.std, s.min, s.max, s.norm, s.nonfinite)


def summarize(array: np.ndarray | None, precision: int = 2, max_inline: int = 4) -> str:
    """Short plain-text summary: the number for a scalar, the numbers for a tiny vector,
    otherwise shape statistics. None reads "not computed yet"."""
    if array is None:
        return "not computed yet"
    a = np.asarray(array)
    if a.size == 1:
        return format_number(a.reshape(()).item(), precision)
    if a.size <= max_inline and a.ndim == 1:
        return "[" + ", ".join(format_number(v, precision) for v in a.tolist()) + "]"
    s = stats(a)
    return f"μ {format_number(s.mean, precision)}  σ {format_number(s.std, precision)}"


def tooltip_text(lines: list[str]) -> str:
    return "\n".join(lines)
