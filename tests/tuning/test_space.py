"""The search space: notation, errors, conditionals, TOML, and a default per problem type."""

import optuna
import pytest

from kerasact import HEADS, ModelSpec
from kerasact.tuning import DEFAULTS, Space, default_space, trial_name


def test_ranges_choices_and_fixed_values():
    space = Space({"depth": (1, 3), "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
                   "activation": ["relu", "tanh"], "dropout": 0.1})
    kinds = {name: dim.kind for name, dim in space.dims.items()}
    assert kinds == {"depth": "int", "learning_rate": "float", "activation": "choice", "dropout": "fixed"}
    assert space.dims["learning_rate"].log


def test_per_layer_width_and_activation_exist_only_for_the_layers_a_trial_has():
    space = Space({"depth": (1, 3), "width": (8, 64), "activation": ["relu", "tanh"]})
    trial = optuna.trial.FixedTrial({"depth": 1, "width_1": 16, "activation_1": "tanh"})
    assert space.sample(trial) == {"hidden": [(16, "tanh")]}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(10):
        t = study.ask()
        options = space.sample(t)
        depth = len(options["hidden"])
        assert set(t.params) == {"depth"} | {f"{n}_{i}" for n in ("width", "activation") for i in range(1, depth + 1)}
        study.tell(t, 0.0)


@pytest.mark.parametrize("problem", sorted(HEADS))
def test_every_problem_has_a_default_space_whose_trials_are_valid_specs(problem):
    space = default_space(problem)
    assert set(space.dims) == set(DEFAULTS[problem])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    counts = {"n_classes": 3} if problem == "multiclass" else {"n_outputs": 2} if problem != "binary" else {}
    for _ in range(5):
        options = space.sample(study.ask())
        spec_options = {k: v for k, v in options.items() if k not in ("batch_size", "class_weight")}
        ModelSpec(problem, 4, **counts, **spec_options)  # raises on an invalid combination


@pytest.mark.parametrize(("dims", "match"), [
    ({"learnig_rate": (1e-4, 1e-2)}, r"unknown name 'learnig_rate'.*Did you mean 'learning_rate'"),
    ({"dropout": (0.5, 0.1)}, r"dropout has low=0.5 >= high=0.1"),
    ({"l2": {"low": 0, "high": 1, "log": True}}, r"l2 is log-scaled, so low must be > 0"),
    ({"l2": {"low": 1e-5}}, r"must be a range table with keys low, high"),
    ({"depth": (1, 20)}, r"depth must be whole numbers from 1 to 8"),
    ({"activation": []}, r"activation has no choices"),
    ({"dropout": (0.1, 0.2, 0.3)}, r"a tuple is a range \(low, high\)"),
])
def test_a_bad_space_is_one_clear_error(dims, match):
    with pytest.raises(ValueError, match=match):
        Space(dims)


def test_a_space_in_toml_next_to_a_model_spec(tmp_path):
    path = tmp_path / "search.toml"
    path.write_text('problem = "binary"\ninput_dim = 4\noptimizer = "adamw"\n\n[search]\ndepth = [1, 2]\n'
                    'learning_rate = {low = 1e-4, high = 1e-2, log = true}\n')
    space = Space.load(path)
    assert space.dims["optimizer"].value == "adamw" and space.dims["depth"].choices == (1, 2)
    assert "problem" not in space.dims and space.dims["learning_rate"].log
    (tmp_path / "bad.toml").write_text("depth = [1, 2\n")
    with pytest.raises(ValueError, match="cannot be read as TOML"):
        Space.load(tmp_path / "bad.toml")


def test_trial_names_say_what_the_trial_is():
    assert trial_name(3, {"hidden": [(8, "relu")]}) == "trial-003 depth=1 relu"
    assert trial_name(12, {"hidden": [(8, "gelu"), (4, "tanh")], "learning_rate": 3e-3}) == \
        "trial-012 depth=2 gelu+tanh lr=3e-03"
