import numpy as np
import pytest

import graphgrad as gg
from graphgrad.inspection import ModelError, occlusion_map


def one_pixel_model(x):
    """Class 0's score is 3 * pixel (3, 5); class 1's is 0: only that pixel matters."""
    pixel = x[:, 0, 3, 5]
    return gg.stack([3.0 * pixel, 0.0 * pixel], axis=1)


def _image():
    image = np.zeros((1, 8, 8))
    image[0, 3, 5] = 2.0
    return image


def test_occlusion_of_a_model_that_looks_at_one_pixel_lights_up_that_pixel():
    baseline = 1 / (1 + np.exp(-6.0))                     # softmax of (6, 0), class 0
    maps = occlusion_map(one_pixel_model, _image(), 0, patch=1, fill=0.0)
    expected = np.full((8, 8), baseline)
    expected[3, 5] = 0.5                                   # occluded: scores (0, 0)
    np.testing.assert_allclose(maps, expected, atol=1e-12)


def test_a_3x3_occluder_drops_the_probability_on_the_pixels_3x3_neighbourhood():
    maps = occlusion_map(one_pixel_model, _image(), 0, patch=3, fill=0.0)
    dropped = maps < 0.9
    expected = np.zeros((8, 8), dtype=bool)
    expected[2:5, 4:7] = True
    np.testing.assert_array_equal(dropped, expected)


def test_stride_gives_a_coarser_grid_centred_on_every_stride_th_pixel():
    image = np.zeros((1, 8, 8))
    image[0, 4, 6] = 2.0

    def model(x):
        pixel = x[:, 0, 4, 6]
        return gg.stack([3.0 * pixel, 0.0 * pixel], axis=1)

    maps = occlusion_map(model, image, 0, patch=1, stride=2, fill=0.0)
    assert maps.shape == (4, 4)
    assert np.argwhere(maps < 0.9).tolist() == [[2, 3]]


def test_batch_and_fill_mean():
    images = np.stack([_image(), 2 * _image()])
    maps = occlusion_map(one_pixel_model, images, [0, 1], patch=1, fill="mean")
    assert maps.shape == (2, 8, 8)
    # the mean of the image replaces the pixel: scores (3 * mean, 0)
    mean = images[1].mean()
    assert maps[1, 3, 5] == pytest.approx(1 / (1 + np.exp(3 * mean)))


def test_bad_patch_is_rejected_with_the_valid_range():
    with pytest.raises(ModelError, match=r"patch must be an int in 1\.\.8"):
        occlusion_map(one_pixel_model, _image(), 0, patch=0)
