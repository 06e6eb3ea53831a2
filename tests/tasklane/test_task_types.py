"""Task types from the config file: what loads, what is refused, what is only warned about."""

from __future__ import annotations

import logging
import tomllib

import pytest
from pydantic import ValidationError

from tasklane.config import TasklaneConfig


def load(text: str) -> TasklaneConfig:
    return TasklaneConfig.model_validate(tomllib.loads(text))


def test_a_types_settings_are_resolved() -> None:
    config = load(
        '[[task_types]]\nname = "FETCH_TAX_CARDS"\nurl = "http://payroll.internal/x"\n'
        'ttl = "PT10M"\ntimeout = "PT2M"\nretry = {max_attempts = 3, backoff = "fixed"}\n'
        '[results]\nretention = "PT2H"\n'
    )
    found = config.types.get("FETCH_TAX_CARDS")
    assert found is not None and found.target is not None
    assert found.target.url == "http://payroll.internal/x"
    assert (found.ttl_s, found.attempt_timeout_s, found.result_retention_s) == (600, 120, 7200)
    assert found.retry.max_attempts == 3 and found.retry.backoff == "fixed"


@pytest.mark.parametrize(
    "entry",
    [
        'name = "A"\nhandler = "http"',  # no url
        'name = "A"\nhandler = "not_a_reference"',
        'name = "A"\nurl = "http://x/"\nttl = "ten minutes"',
        'name = "bad name"\nurl = "http://x/"',
    ],
)
def test_a_broken_type_is_refused_at_load(entry: str) -> None:
    with pytest.raises(ValidationError):
        load(f"[[task_types]]\n{entry}\n")


def test_unknown_keys_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tasklane.config"):
        config = load('[[task_types]]\nname = "A"\nurl = "http://x/"\nflavour = "vanilla"\n')
    assert config.types.names == ["A"]
    assert "flavour" in caplog.text


def test_a_python_handler_is_imported_only_when_asked() -> None:
    config = load('[[task_types]]\nname = "E"\nhandler = "tasklane.example_handlers:echo"\n')
    assert config.types.get("E") is not None  # the API never imports handlers
    assert config.types.handlers()["E"].__name__ == "echo"


def test_the_dev_config_registers_the_seeds_system_task_types(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tasklane.devstack import ensure_dev_config

    config = TasklaneConfig.load(ensure_dev_config(tmp_path)[0])
    ttls = {name: config.types.get(name).ttl_s for name in config.types.names}  # type: ignore[union-attr]
    assert ttls == {
        "FETCH_TAX_CARDS": 600,
        "FETCH_GARNISHMENTS": 600,
        "VAT_RETURN_SYNC": 3600,
        "AMELDING_SUBMIT": None,
        "echo": None,
    }
