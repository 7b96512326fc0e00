"""Looking inside trained CNNs: the visualisation techniques of the lecture notes.

Every technique is "just backpropagation" to the input, or a forward pass read cleverly, so each
is one function that works on any graphgrad model (an `nn.Module` or a function from an input
Tensor (N, C, H, W) to class scores (N, classes)) and returns NumPy arrays; `plotting` turns them
into the figures users expect. Layers are named by module path ("conv1"), by op selector
("relu:1": the second ReLU node of the graph, also for plain functions) or by a callable.

    from graphgrad import inspection
    inspection.saliency_map(model, images, labels)            # (N, H, W)
    inspection.occlusion_map(model, image, label, patch=3)    # (H, W)
    inspection.plotting.plot_heatmaps(images, maps, "saliency.png")

One module per technique: `kernels` (kernels, feature maps, kernel correlation), `saliency`,
`occlusion`, `class_model` (activation maximisation), `deepdream`, `guided` (deconvnet and guided
backprop through gradient hooks), `adversarial` (FGSM, targeted minimal perturbation), `tsne`
(CNN codes, scikit-learn's t-SNE, nearest neighbours), `gabor`, `separable`, `receptive_field`,
`toeplitz` (conv as a matrix), `plotting`, and `report` (the digits figures of `graphgrad inspect`).
"""

from . import (
    adversarial,
    activation_maximization,
    deepdream,
    gabor,
    guided,
    kernels,
    occlusion,
    plotting,
    receptive_geometry,
    saliency,
    separable,
    toeplitz,
    tsne,
)
from ._model import ModelError, find_layer, layer_names, run_traced
from .adversarial import AttackResult, fgsm, loss_gradient, targeted_perturbation
from .activation_maximization import Visualization, class_model
from .deepdream import Dream, deep_dream
from .gabor import (
    GaborFit,
    canonical as canonical_gabor,
    fit_gabor,
    gabor as gabor_kernel,
    gabor_bank,
)
from .guided import backprop_variants, deconvnet, guided_backprop
from .kernels import feature_maps, first_layer_kernels, kernel_correlation, mean_abs_off_diagonal
from .occlusion import occlusion_map
from .receptive_geometry import ReceptiveField, field_of, receptive_field, receptive_fields
from .saliency import input_gradient, saliency_map
from .separable import (
    SeparableFactors,
    accuracy_with_rank,
    rank_errors,
    separable_approximation,
    separable_conv2d,
)
from .toeplitz import conv_matrix
from .tsne import cnn_codes, nearest_neighbours, neighbour_agreement, tsne_embedding

__all__ = [
    "AttackResult", "Dream", "GaborFit", "ModelError", "ReceptiveField", "SeparableFactors",
    "Visualization", "accuracy_with_rank", "backprop_variants", "canonical_gabor", "class_model",
    "cnn_codes", "conv_matrix", "deconvnet", "deep_dream", "feature_maps", "fgsm", "field_of",
    "find_layer", "first_layer_kernels", "fit_gabor", "gabor_bank", "gabor_kernel",
    "guided_backprop", "input_gradient", "kernel_correlation", "layer_names", "loss_gradient",
    "mean_abs_off_diagonal", "nearest_neighbours", "neighbour_agreement", "occlusion_map",
    "rank_errors", "receptive_field", "receptive_fields", "saliency_map",
    "separable_approximation", "separable_conv2d", "targeted_perturbation", "run_traced",
    "tsne_embedding",
    # modules
    "adversarial", "deepdream", "gabor", "guided", "kernels", "occlusion", "plotting",
    "saliency", "separable", "toeplitz", "tsne",
]
