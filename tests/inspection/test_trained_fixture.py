
from .conftest import accuracy


def test_the_session_model_has_learned(trained):
    # every "trained model" test below relies on a model far better than chance (10%)
    assert accuracy(trained.model, trained.data.x_test, trained.data.y_test) > 0.85
