"""bench.efficacy: a run of one task keeps the other task's last figures, each with its own machine."""

import json

from bench.efficacy import with_last_figures

FP32 = {"cores": 2, "cpu_amx": False}
AMX = {"cores": 2, "cpu_amx": True}


def test_a_run_of_one_task_keeps_the_others_figures_with_the_machine_they_ran_on(tmp_path):
    last = tmp_path / "efficacy.json"
    last.write_text(json.dumps({"json_record": {"seconds": 3272.0}, "c_code": {"seconds": 1.0}, "machine": FP32}))

    merged = with_last_figures({"c_code": {"seconds": 9000.0, "machine": AMX}}, last)

    assert merged == {
        "json_record": {"seconds": 3272.0, "machine": FP32},  # kept, labelled with the file's machine
        "c_code": {"seconds": 9000.0, "machine": AMX},  # this run's figures replace the last ones
    }


def test_the_first_run_writes_only_its_own_tasks(tmp_path):
    assert with_last_figures({"json_record": {"seconds": 1.0}}, tmp_path / "efficacy.json") == {
        "json_record": {"seconds": 1.0}
    }
