import numpy as np

import graphgrad as gg
from graphgrad.inspection import cnn_codes, nearest_neighbours, neighbour_agreement, tsne_embedding


def test_nearest_neighbours_on_points_with_known_distances():
    codes = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.5], [10.0, 10.0]])
    np.testing.assert_array_equal(nearest_neighbours(codes, [0, 4], k=2), [[1, 3], [2, 3]])
    np.testing.assert_array_equal(nearest_neighbours(codes, np.array([[2.9, 0.1]]), k=1), [[2]])


def test_default_codes_are_the_input_of_the_last_linear_layer(trained):
    model = trained.model
    x = trained.data.x_test[:20]
    codes = cnn_codes(model, x)
    h = gg.tensor(x)
    with gg.no_grad():
        for layer in list(model)[:-1]:       # everything before the final Linear
            h = layer(h)
    np.testing.assert_allclose(codes, h.numpy(), rtol=1e-6)
    assert cnn_codes(model, x, layer="2").shape == (20, 8 * 4 * 4)


def test_codes_put_same_class_digits_together(trained):
    x, y = trained.data.x_test[:200], trained.data.y_test[:200]
    assert neighbour_agreement(cnn_codes(trained.model, x), y, k=5) >= 0.85


def test_tsne_keeps_separated_clusters_separated():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 20)) * 10
    labels = np.repeat(np.arange(3), 30)
    codes = centres[labels] + rng.standard_normal((90, 20))
    embedding = tsne_embedding(codes, perplexity=15, seed=0, iterations=250)
    assert embedding.shape == (90, 2)
    assert neighbour_agreement(embedding, labels, k=5) >= 0.95
