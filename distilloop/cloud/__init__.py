"""distilloop on AWS: `distilloop cloud run|status|logs|schedule` and the container's entry point.

layout.py: SageMaker's directories and environment inside the container (every path overridable).
aws.py: boto3 clients from the environment; AWS errors as one-line UserErrors.
code.py: the project at git HEAD as a tarball on S3 (the job's `code` channel).
job.py: the CreateTrainingJob request; metrics.py: the headline figures and their MetricDefinitions.
monitor.py: status and logs of a job. schedule.py / asl.py: the nightly state machine and its checks.
entrypoint.py: `python -m distilloop.cloud.entrypoint train|serve` in the container.
"""
