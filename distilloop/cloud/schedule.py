"""The nightly run: an EventBridge schedule starts a Step Functions state machine that trains (the job of
`distilloop cloud run`, waited for with createTrainingJob.sync), reads the new model's headline figures from
the job's FinalMetricDataList (no Lambda: the MetricDefinitions put them there), and compares them with the
last Approved model package of the SageMaker Model Registry group (its CustomerMetadataProperties). At least
as good on every GATE figure: registered Approved. Otherwise registered Rejected (the run is on record, the
previous Approved package stays the one to deploy) and the execution ends in the Fail state `Rejected`.
"""

from __future__ import annotations

import json
from pathlib import Path

from distilloop import UserError
from distilloop.cloud import asl
from distilloop.cloud.aws import aws_errors, client, region
from distilloop.cloud.job import ROLE_ARN, JobSpec, build_request
from distilloop.cloud.metrics import GATE

SAGEMAKER = "arn:aws:states:::aws-sdk:sagemaker:"
TERMINALS = {"Registered", "Rejected", "TrainingFailed", "NoFigures"}


def training_parameters(request: dict) -> dict:
    """The CreateTrainingJob request with a job name (and checkpoint prefix) per execution."""
    parameters = json.loads(json.dumps(request))
    del parameters["TrainingJobName"], parameters["Tags"]
    parameters["TrainingJobName.$"] = "States.Format('distilloop-{}', $$.Execution.Name)"
    checkpoints = parameters.pop("CheckpointConfig")
    base = checkpoints["S3Uri"].rstrip("/").rsplit("/", 1)[0]
    parameters["CheckpointConfig"] = {
        "S3Uri.$": f"States.Format('{base}/distilloop-{{}}/', $$.Execution.Name)",
        "LocalPath": checkpoints["LocalPath"],
    }
    return parameters


def register(group: str, image: str, status: str, next_state: str) -> dict:
    return {
        "Type": "Task",
        "Resource": SAGEMAKER + "createModelPackage",
        "Parameters": {
            "ModelPackageGroupName": group,
            "ModelApprovalStatus": status,
            "ModelPackageDescription.$": "States.Format('distilloop training job {}', $.found.job)",
            "CustomerMetadataProperties": {
                "training_job.$": "$.found.job",
                **{f"{name}.$": f"States.JsonToString($.new.{name})" for name in GATE},
            },
            "InferenceSpecification": {
                "Containers": [{"Image": image, "ModelDataUrl.$": "$.found.model_data"}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
        },
        "ResultPath": "$.registered",
        "Next": next_state,
    }


def definition(request: dict, group: str) -> dict:
    image = request["AlgorithmSpecification"]["TrainingImage"]
    metric = "$.training.FinalMetricDataList[?(@.MetricName == '{}')].Value"
    return {
        "Comment": "distilloop nightly: train, compare with the last Approved model package, register or reject",
        "StartAt": "Train",
        "States": {
            "Train": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                "Parameters": training_parameters(request),
                "ResultPath": "$.training",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "TrainingFailed"}],
                "Next": "Figures",
            },
            "Figures": {
                "Type": "Pass",
                "Parameters": {
                    "job.$": "$.training.TrainingJobName",
                    "model_data.$": "$.training.ModelArtifacts.S3ModelArtifacts",
                    **{f"{name}.$": metric.format(name) for name in GATE},
                },
                "ResultPath": "$.found",
                "Next": "HasFigures",
            },
            "HasFigures": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [{"Variable": f"$.found.{name}[0]", "IsPresent": True} for name in GATE],
                        "Next": "NewFigures",
                    }
                ],
                "Default": "NoFigures",
            },
            "NewFigures": {
                "Type": "Pass",
                "Parameters": {f"{name}.$": f"States.ArrayGetItem($.found.{name}, 0)" for name in GATE},
                "ResultPath": "$.new",
                "Next": "LastApproved",
            },
            "LastApproved": {
                "Type": "Task",
                "Resource": SAGEMAKER + "listModelPackages",
                "Parameters": {
                    "ModelPackageGroupName": group,
                    "ModelApprovalStatus": "Approved",
                    "SortBy": "CreationTime",
                    "SortOrder": "Descending",
                    "MaxResults": 1,
                },
                "ResultPath": "$.last",
                "Next": "HasPrevious",
            },
            "HasPrevious": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.last.ModelPackageSummaryList[0]", "IsPresent": True, "Next": "DescribePrevious"}
                ],
                "Default": "RegisterApproved",
            },
            "DescribePrevious": {
                "Type": "Task",
                "Resource": SAGEMAKER + "describeModelPackage",
                "Parameters": {"ModelPackageName.$": "$.last.ModelPackageSummaryList[0].ModelPackageArn"},
                "ResultPath": "$.previous_package",
                "Next": "PreviousFigures",
            },
            "PreviousFigures": {
                "Type": "Pass",
                "Parameters": {
                    f"{name}.$": f"States.StringToJson($.previous_package.CustomerMetadataProperties.{name})"
                    for name in GATE
                },
                "ResultPath": "$.previous",
                "Next": "Gate",
            },
            "Gate": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": f"$.new.{name}", "NumericGreaterThanEqualsPath": f"$.previous.{name}"}
                            for name in GATE
                        ],
                        "Next": "RegisterApproved",
                    }
                ],
                "Default": "RegisterRejected",
            },
            "RegisterApproved": register(group, image, "Approved", "Registered"),
            "Registered": {"Type": "Succeed"},
            "RegisterRejected": register(group, image, "Rejected", "Rejected"),
            "Rejected": {
                "Type": "Fail",
                "Error": "distilloop.ModelRejected",
                "Cause": "below the last Approved model package on a gate figure: registered as Rejected, "
                "the previous Approved package stays",
            },
            "TrainingFailed": {"Type": "Fail", "Error": "distilloop.TrainingFailed", "Cause": "see $.error"},
            "NoFigures": {
                "Type": "Fail",
                "Error": "distilloop.NoFigures",
                "Cause": "the job's FinalMetricDataList lacks a gate figure (did it reach the quantise stage?)",
            },
        },
    }


def build(spec: JobSpec, code_uri: str, name: str, cron: str, states_role: str, events_role: str) -> dict:
    request = build_request(spec, code_uri)
    for option, arn in (("--states-role", states_role), ("--events-role", events_role)):
        if not ROLE_ARN.match(arn or ""):
            raise UserError(f"{option} {arn!r}: expected an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    if not (cron.startswith("cron(") or cron.startswith("rate(")) or not cron.endswith(")"):
        raise UserError(f"--cron {cron!r}: expected an EventBridge expression such as cron(0 2 * * ? *) or rate(1 day)")
    machine = definition(request, name)
    problems = asl.validate(machine, TERMINALS)
    if problems:  # a bug here, not the user's: the definition is built by this module
        raise RuntimeError("; ".join(problems))
    return {
        "name": name,
        "definition": machine,
        "states_role": states_role,
        "rule": {"Name": name, "ScheduleExpression": cron, "State": "ENABLED"},
        "events_role": events_role,
    }


def write(plan: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    machine, schedule = out / "state-machine.json", out / "schedule.json"
    machine.write_text(json.dumps(plan["definition"], indent=2) + "\n", encoding="utf-8")
    rule = {**plan["rule"], "Target": {"RoleArn": plan["events_role"], "StateMachine": plan["name"]}}
    schedule.write_text(json.dumps(rule, indent=2) + "\n", encoding="utf-8")
    return [machine, schedule]


def apply(plan: dict) -> list[str]:
    """Create or update the model package group, the state machine and the schedule; lines of what was done."""
    name, lines = plan["name"], []
    sagemaker, states, events = client("sagemaker"), client("stepfunctions"), client("events")
    with aws_errors(f"model package group {name}"):
        groups = sagemaker.list_model_package_groups(NameContains=name)["ModelPackageGroupSummaryList"]
        if not any(group["ModelPackageGroupName"] == name for group in groups):
            sagemaker.create_model_package_group(
                ModelPackageGroupName=name, ModelPackageGroupDescription="distilloop models, gated nightly"
            )
            lines.append(f"created model package group {name}")
    body = json.dumps(plan["definition"])
    with aws_errors(f"state machine {name}"):
        machines = states.list_state_machines()["stateMachines"]
        existing = next((m["stateMachineArn"] for m in machines if m["name"] == name), None)
        if existing:
            states.update_state_machine(stateMachineArn=existing, definition=body, roleArn=plan["states_role"])
            arn = existing
            lines.append(f"updated state machine {arn}")
        else:
            arn = states.create_state_machine(name=name, definition=body, roleArn=plan["states_role"])[
                "stateMachineArn"
            ]
            lines.append(f"created state machine {arn}")
    with aws_errors(f"EventBridge rule {name}"):
        rule = events.put_rule(**plan["rule"], Description="distilloop nightly run")["RuleArn"]
        events.put_targets(Rule=name, Targets=[{"Id": "distilloop", "Arn": arn, "RoleArn": plan["events_role"]}])
        lines.append(f"scheduled {rule}: {plan['rule']['ScheduleExpression']} ({region()})")
    return lines
