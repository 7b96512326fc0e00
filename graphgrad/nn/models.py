"""Ready-made models used by the demo, the examples and the benchmark."""

from __future__ import annotations

from typing import Annotated

from graphgrad._tensor import Tensor
from graphgrad.nn.activation import ReLU
from graphgrad.nn.init import Rng, make_rng
from graphgrad.nn.layers import Conv2d, Dropout, Flatten, Linear, MaxPool2d
from graphgrad.nn._arguments import MAX_SIZE, Count, Layer, Probability, Rule

__all__ = ["LeNet"]


# the side of the square input images: the max-pool halves it, so at least 2
ImageSize = Annotated[int, Rule(lambda n: 2 <= n < MAX_SIZE, "an int in [2, 2**62)")]


class LeNet(Layer):
    """A LeNet-style CNN sized for the 8x8 digits (NCHW input (N, 1, 8, 8)):

    conv1 3x3 (pad 1) → ReLU → conv2 3x3 (pad 1) → ReLU → pool (max 2x2) → flatten →
    fc1 → ReLU → dropout → fc2 (class scores).

    On 8x8 images a second pooling stage would leave 2x2 maps, so both convolutions run at full
    resolution and one max-pool subsamples before the fully connected classifier (on the digits
    this gains about one point of test accuracy over conv-pool-conv-pool).
    `features(x)` is everything up to the flattened pooled maps (the "CNN code" of the lecture's
    transfer learning); `fc2` is the head to swap when fine-tuning.
    """

    def __init__(self, num_classes: Count = 10, channels: tuple[Count, Count] = (16, 32),
                 hidden: Count = 64, in_channels: Count = 1, image_size: ImageSize = 8,
                 dropout: Probability = 0.5, *, conv1_init: str = "he", rng: Rng = 0) -> None:
        super().__init__()
        rng = make_rng(rng)
        c1, c2 = channels
        side = image_size // 2
        self.conv1 = Conv2d(in_channels, c1, 3, padding=1, init=conv1_init, rng=rng)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(c1, c2, 3, padding=1, rng=rng)
        self.relu2 = ReLU()
        self.pool = MaxPool2d(2)
        self.flatten = Flatten()
        self.fc1 = Linear(c2 * side * side, hidden, rng=rng)
        self.relu3 = ReLU()
        self.dropout = Dropout(dropout, rng=rng)
        self.fc2 = Linear(hidden, num_classes, init="xavier", rng=rng)

    def features(self, x: Tensor) -> Tensor:
        x = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.flatten(self.pool(x))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.dropout(self.relu3(self.fc1(self.features(x)))))
