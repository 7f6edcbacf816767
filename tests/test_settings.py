import pytest

from streams.settings import Settings, SettingsError


def test_defaults_are_embedded() -> None:
    s = Settings.from_env({})
    assert s.mode == "embedded" and s.feeds


def test_env_overrides_and_errors() -> None:
    s = Settings.from_env({"DEFWATCH_KAFKA": "127.0.0.1:9092", "DEFWATCH_FEEDS": "none", "DEFWATCH_BATCH_SIZE": "8"})
    assert s.mode == "distributed" and s.feeds == [] and s.batch_size == 8
    with pytest.raises(SettingsError, match="DEFWATCH_BATCH_SIZE"):
        Settings.from_env({"DEFWATCH_BATCH_SIZE": "lots"})
