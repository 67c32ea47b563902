"""Following a job: DescribeTrainingJob (status, spot savings, final metrics) and its CloudWatch log stream."""

from __future__ import annotations

from distilloop.cloud.aws import aws_errors, client

LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def describe(name: str) -> dict:
    with aws_errors(f"DescribeTrainingJob {name}"):
        return client("sagemaker").describe_training_job(TrainingJobName=name)


def status_lines(job: dict) -> list[str]:
    lines = [f"{job['TrainingJobName']}: {job['TrainingJobStatus']} ({job.get('SecondaryStatus', '-')})"]
    if job.get("FailureReason"):
        lines.append(f"failure: {job['FailureReason']}")
    billable, seconds = job.get("BillableTimeInSeconds"), job.get("TrainingTimeInSeconds")
    if seconds:
        saved = (
            f", spot saved {100 * (1 - billable / seconds):.0f}%"
            if billable and job.get("EnableManagedSpotTraining")
            else ""
        )
        lines.append(f"time: {seconds} s trained, {billable or seconds} s billed{saved}")
    for metric in job.get("FinalMetricDataList") or []:
        lines.append(f"{metric['MetricName']}: {metric['Value']:g}")
    artifacts = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if artifacts:
        lines.append(f"model: {artifacts}")
    return lines


def log_events(name: str, limit: int = 10000):
    """The job's log lines, oldest first, from each of its streams (one per instance: NAME/algo-N-...)."""
    logs = client("logs")
    with aws_errors(f"CloudWatch Logs {LOG_GROUP}/{name}"):
        streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/")["logStreams"]
        for stream in streams:
            token, seen = None, 0
            while seen < limit:
                kwargs = {"nextToken": token} if token else {}
                page = logs.get_log_events(
                    logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"], startFromHead=True, **kwargs
                )
                for event in page["events"]:
                    seen += 1
                    yield event["message"]
                if not page["events"] or page.get("nextForwardToken") == token:
                    break
                token = page.get("nextForwardToken")
