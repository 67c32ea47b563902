"""The runtime: section: settings that never change a result, which no stage lists in dvc.yaml, and the only
ones the environment may override (DISTILLOOP_RUNTIME__KEY=value); any other key stays in params.yaml, where
DVC sees it."""

from __future__ import annotations

import pytest
import yaml
from conftest import ROOT, assert_one_line_error, cli_env, run_cli

from distilloop import UserError
from distilloop.config import load


def test_runtime_keys_come_from_the_environment_over_params_yaml():
    environ = {
        "DISTILLOOP_RUNTIME__THREADS": "8",
        "DISTILLOOP_RUNTIME__TEACHER__CONCURRENCY": "16",
        "DISTILLOOP_RUNTIME__TEACHER__CACHE_PATH": "/tmp/elsewhere/teacher.sqlite",
        "DISTILLOOP_RUNTIME__DISTRIBUTED__CONFIG_FILE": "null",
        "DISTILLOOP_CACHE_DIR": "/tmp/not-an-override",  # no double underscore: not a params key
    }
    shipped, overridden = load(ROOT / "params.yaml", environ={}), load(ROOT / "params.yaml", environ=environ)
    assert overridden.runtime.threads == 8 and shipped.runtime.threads == 0
    assert overridden.runtime.teacher.concurrency == 16
    assert overridden.runtime.teacher.cache_path == "/tmp/elsewhere/teacher.sqlite"
    assert overridden.runtime.distributed.config_file is None
    # nothing but runtime moved
    assert overridden.model_dump(exclude={"runtime"}) == shipped.model_dump(exclude={"runtime"})
    assert overridden.runtime.teacher.max_retries == shipped.runtime.teacher.max_retries


def test_a_result_changing_key_from_the_environment_is_refused_with_the_reason():
    with pytest.raises(UserError) as refused:
        load(ROOT / "params.yaml", environ={"DISTILLOOP_TRAIN__LEARNING_RATE": "0.1"})
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("DISTILLOOP_TRAIN__LEARNING_RATE: only runtime settings come from the environment")
    assert "train.learning_rate changes results, so it stays in params.yaml where DVC sees it" in message


@pytest.mark.parametrize(
    "name, value, fragments",
    [
        ("DISTILLOOP_RUNTIME__THREADS", "lots", ("from the environment", "runtime.threads:", "'lots'")),
        ("DISTILLOOP_RUNTIME__THREADS", "-1", ("runtime.threads:", "greater than or equal to 0")),
        ("DISTILLOOP_RUNTIME__THRADS", "2", ("runtime.thrads: unknown key",)),
    ],
)
def test_a_bad_runtime_value_names_the_key(name, value, fragments):
    with pytest.raises(UserError) as refused:
        load(ROOT / "params.yaml", environ={name: value})
    assert "\n" not in str(refused.value)
    for fragment in fragments:
        assert fragment in str(refused.value)


def test_a_key_that_moved_to_runtime_says_where_it_went(tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"train": {"threads": 2}}))
    with pytest.raises(UserError) as refused:
        load(tmp_path / "params.yaml", environ={})
    assert str(refused.value) == (
        f"{tmp_path / 'params.yaml'}: train.threads: unknown key (it is runtime.threads now: it never changes a result)"
    )


def test_the_cli_refuses_a_result_changing_override_in_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text("quality_threshold: 7.0\n")
    result = run_cli("status", cwd=tmp_path, env=cli_env(DISTILLOOP_TRAIN__LEARNING_RATE="0.1"))
    assert_one_line_error(result, "DISTILLOOP_TRAIN__LEARNING_RATE: only runtime settings", "stays in params.yaml")
