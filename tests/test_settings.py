import pytest

from streams.feeds import load_feeds
from streams.settings import Settings, SettingsError


def test_defaults_are_embedded_with_the_bundled_feeds() -> None:
    s = Settings.from_env({})
    assert s.mode == "embedded" and s.feeds is None
    feeds = load_feeds(s)
    assert len(feeds) >= 8 and all(f.url.startswith("https://") for f in feeds)


def test_env_overrides_and_errors() -> None:
    s = Settings.from_env({"DEFWATCH_KAFKA": "127.0.0.1:9092", "DEFWATCH_FEEDS": "none", "DEFWATCH_BATCH_SIZE": "8",
                           "DEFWATCH_FETCH_ALLOW_HOSTS": "10.0.0.5, intranet.local"})
    assert s.mode == "distributed" and s.feeds == [] and s.batch_size == 8 and load_feeds(s) == []
    assert s.fetch_allow_hosts == ["10.0.0.5", "intranet.local"]
    with pytest.raises(SettingsError, match="DEFWATCH_BATCH_SIZE"):
        Settings.from_env({"DEFWATCH_BATCH_SIZE": "lots"})
    with pytest.raises(SettingsError, match="DEFWATCH_PUSH_TOKEN"):
        Settings.from_env({"DEFWATCH_PUSH_TOKEN": "short"})


def test_secrets_stay_out_of_repr() -> None:
    s = Settings.from_env({"DEFWATCH_PUSH_TOKEN": "x" * 32, "DEFWATCH_KIBANA_API_KEY": "k" * 20})
    assert "xxxx" not in repr(s) and "kkkk" not in repr(s)


def test_agents_are_checked() -> None:
    assert Settings.from_env({"DEFWATCH_AGENTS": "alert"}).agents == ["alert"]
    with pytest.raises(SettingsError, match="unknown agent"):
        Settings.from_env({"DEFWATCH_AGENTS": "extract,everything"})
