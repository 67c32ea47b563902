"""params.yaml and the schema agree: the schema (distilloop/config.py) is the only place defaults live and
its defaults are the default run; params.yaml lists every knob with the schema's value, so deleting any key
changes nothing; the other tasks' differences live in profiles/."""

from __future__ import annotations

import copy

import yaml
from conftest import ROOT
from pydantic import BaseModel

from distilloop.config import Params, parse

PARAMS_YAML = ROOT / "params.yaml"


def flatten(value, prefix: str = "") -> dict:
    """Nested mappings -> {"section.key": value}; free-form mappings (rule tables, epochs) stay values."""
    if isinstance(value, BaseModel):
        return {
            key: item
            for name in type(value).model_fields
            for key, item in flatten(getattr(value, name), f"{prefix}{name}.").items()
        }
    return {prefix.rstrip("."): value}


def raw_params() -> dict:
    return yaml.safe_load(PARAMS_YAML.read_text(encoding="utf-8"))


def test_params_yaml_is_the_schema_defaults():
    defaults, project = flatten(Params()), flatten(parse(raw_params()))
    differing = sorted(key for key in defaults if defaults[key] != project[key])
    assert differing == [], f"params.yaml differs from the schema's defaults at {differing}"


def test_params_yaml_with_every_key_deleted_is_the_same_run():
    assert parse({}) == parse(raw_params())
    for section in raw_params():  # and one section at a time
        raw = copy.deepcopy(raw_params())
        del raw[section]
        assert parse(raw) == parse(raw_params()), section


def test_the_c_code_profile_gives_the_c_run(tmp_path):
    """`distilloop profile c-code` on the shipped params.yaml is the schema's defaults with the profile's
    values: nothing of the profile task is left behind."""
    from distilloop.config import apply_profile

    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "c-code.yaml").write_bytes((ROOT / "profiles" / "c-code.yaml").read_bytes())
    project = tmp_path / "params.yaml"
    project.write_bytes(PARAMS_YAML.read_bytes())
    params = apply_profile("c-code", project)
    overlay = yaml.safe_load((ROOT / "profiles" / "c-code.yaml").read_text(encoding="utf-8"))
    assert params == parse(overlay) == parse(yaml.safe_load(project.read_text(encoding="utf-8")))
    assert params.export.source == "bundled:c_code" and params.loop.pool_per_epoch == 0
    assert params.quantise.types == ["f16", "q8_0"] and params.student.max_new_tokens == 832


def test_params_yaml_lists_every_knob():
    raw = raw_params()
    missing = []
    for key in flatten(Params()):
        node = raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(key)
                break
            node = node[part]
    assert not missing, f"params.yaml lacks {missing}: a user cannot see or `dvc exp run -S` these"


def test_a_deleted_key_falls_back_to_the_schema_default():
    raw = copy.deepcopy(raw_params())
    del raw["gate"]["c_code"]["rule_weights"]["misra-c2012-15.1"]
    del raw["export"]["templates"]
    del raw["teacher"]["system_prompt"]
    params = parse(raw)
    # a rule missing from the table costs default_rule_weight: no code-side table is merged back in
    assert "misra-c2012-15.1" not in params.gate.c_code.rule_weights
    assert params.export.templates == Params().export.templates
    assert params.teacher.system_prompt == Params().teacher.system_prompt


def test_a_partial_mapping_replaces_the_default_whole():
    raw = copy.deepcopy(raw_params())
    raw["gate"]["c_code"]["rule_weights"] = {"misra-c2012-15.1": 5.0}
    assert parse(raw).gate.c_code.rule_weights == {"misra-c2012-15.1": 5.0}
