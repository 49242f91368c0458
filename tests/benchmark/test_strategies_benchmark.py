"""The strategies benchmark trains each config on the data that config is for."""

from tfgen.benchmark import strategies


def test_data_flags_name_a_dataset_only_when_one_is_asked_for():
    assert strategies.dataset_args() == []
    assert strategies.dataset_args(data_dir="d") == ["--data_dir=d"]
    assert strategies.dataset_args("digits", "d") == ["--dataset=digits", "--data_dir=d"]


def test_a_config_that_names_its_dataset_is_benchmarked_on_it(pokemon_dir):
    # pixelcnn's default dataset is binarized MNIST; its `pokemon` config names the sprites (and flips
    # them, which MNIST refuses). The benchmark used to pass the model's default to every config.
    summary = strategies.run_one(
        "pixelcnn", "pokemon", strategies.dataset_args(data_dir=pokemon_dir), 2, [], [], batch_size=4
    )
    assert "error" not in summary, summary
    assert summary["dataset"] == "pokemon" and summary["steps"] == 2, summary
