#!/usr/bin/env python3
"""Replays every events/*.json through the real Lambda binaries under `cargo lambda
watch`, the same events `sam local invoke -e` takes.

The events carry placeholders ({{API_KEY}}, {{WORKSPACE_ID}}, {{KEY_ID}}, {{EMAIL}},
{{PASSWORD}}) so no credential lives in the repo: the replay signs up an org through
events/auth-signup.json first and fills the rest in from its response. Each event
must answer with the status listed below (and never a 5xx).

Needs DYNAMODB_ENDPOINT and SQS_ENDPOINT (scripts/test sets them) and cargo-lambda
on PATH.
"""

import json
import os
import pathlib
import secrets
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# The answer of an event-source (non-HTTP) invocation that handled every record.
NO_FAILURES = "no batch item failures"

# What each event must answer. The default workspace cannot be deleted (409).
EXPECTED = {
    "auth-signup.json": 201,
    "auth-token.json": 200,
    "auth-login.json": 200,
    "auth-validate.json": 200,
    "auth-openapi-v1.json": 200,
    "auth-openapi-api.json": 200,
    "auth-api-keys-list.json": 200,
    "auth-api-keys-create.json": 201,
    "auth-api-keys-rotate.json": 200,
    "auth-api-keys-delete.json": 200,
    "admin-workspaces-list.json": 200,
    "admin-workspaces-create.json": 201,
    "admin-workspaces-get.json": 200,
    "admin-workspaces-update.json": 200,
    "admin-workspaces-delete.json": 409,
    "admin-api-workspaces-list.json": 200,
    "admin-api-workspaces-create.json": 201,
    "admin-api-workspaces-get.json": 200,
    "admin-api-workspaces-update.json": 200,
    "admin-api-workspaces-delete.json": 200,
    "admin-unknown-route.json": 404,
    "auth-api-service-accounts-create.json": 201,
    "auth-api-service-accounts-list.json": 200,
    "auth-api-service-accounts-keys.json": 201,
    "auth-api-service-accounts-delete.json": 200,
    "admin-users-list.json": 200,
    "admin-users-invite.json": 201,
    "admin-invites-accept.json": 201,
    "admin-users-update.json": 200,
    "admin-users-delete.json": 200,
    "admin-api-users-list.json": 200,
    "admin-api-users-create.json": 201,
    "admin-api-users-get.json": 200,
    "admin-api-users-update.json": 200,
    "admin-api-users-delete.json": 200,
    "admin-api-roles-list.json": 200,
    "admin-api-roles-create.json": 201,
    "admin-api-roles-get.json": 200,
    "admin-api-roles-update.json": 200,
    "admin-api-roles-delete.json": 200,
    "admin-api-organizations-list.json": 200,
    "admin-api-organizations-update.json": 200,
    "records-create.json": 201,
    "records-list.json": 200,
    "records-get.json": 200,
    "records-update.json": 200,
    "records-changes.json": 200,
    "records-delete.json": 200,
    "records-batch.json": 200,
    "audit-list.json": 200,
    "audit-stream.json": 200,
    "webhooks-create.json": 201,
    "webhooks-list.json": 200,
    "webhooks-event-types.json": 200,
    "webhooks-get.json": 200,
    "webhooks-update.json": 200,
    "webhooks-rotate.json": 200,
    "webhooks-delete.json": 200,
    "webhooks-test.json": 202,
    "webhooks-deliveries.json": 200,
    "webhooks-recover.json": 202,
    "links-create.json": 201,
    "links-list.json": 200,
    "links-get.json": 200,
    "links-update.json": 200,
    "links-delete.json": 200,
    "links-analytics.json": 200,
    "links-qr.json": 200,
    # The updated link (a Url link now, on its new slug), opened on the links host.
    "redirect-open.json": 302,
    "sync-queue.json": 200,
    "sync-retry.json": 202,
    # The dispatcher answers batch item failures, not a status: none is expected.
    "dispatcher-stream.json": NO_FAILURES,
    "dispatcher-queue.json": NO_FAILURES,
    "dispatcher-schedule.json": NO_FAILURES,
    "crm-custom-fields-save.json": 200,
    "crm-custom-fields-list.json": 200,
    "crm-contacts-save.json": 200,
    "crm-contacts-create.json": 200,
    "crm-contacts-list.json": 200,
    "crm-contacts-list-post.json": 200,
    "crm-contacts-get.json": 200,
    "crm-contacts-delete.json": 200,
    "crm-activities-save.json": 200,
    "crm-activities-list.json": 200,
    "crm-activities-list-post.json": 200,
    "crm-activities-occurrences.json": 200,
    "crm-activities-delete.json": 200,
    "sync-policies-create.json": 201,
    "sync-policies-list.json": 200,
    "sync-policies-delete.json": 200,
    "data-sources-create.json": 201,
    "data-sources-list.json": 200,
    "data-sources-get.json": 200,
    "data-sources-update.json": 200,
    "data-sources-rows.json": 201,
    "data-sources-sample.json": 200,
    "data-sources-delete.json": 200,
    "data-schemas-create.json": 201,
    "data-schemas-list.json": 200,
    "data-schemas-get.json": 200,
    "data-schemas-update.json": 200,
    "data-schemas-versions.json": 200,
    "data-schemas-delete.json": 200,
    "data-mappings-create.json": 201,
    "data-mappings-list.json": 200,
    "data-mappings-get.json": 200,
    "data-mappings-update.json": 200,
    "data-mappings-preview.json": 200,
    "data-mappings-suggest.json": 200,
    "data-mappings-delete.json": 200,
    "data-pipelines-create.json": 201,
    "data-pipelines-list.json": 200,
    "data-pipelines-get.json": 200,
    "data-pipelines-update.json": 200,
    "data-pipelines-delete.json": 200,
    "data-pipelines-create-dataset.json": 201,
    "data-pipelines-run.json": 202,
    "data-pipelines-run-dataset.json": 202,
    "runner-queue.json": NO_FAILURES,
    "runner-queue-dataset.json": NO_FAILURES,
    "data-pipelines-runs.json": 200,
    "data-pipelines-runs-get.json": 200,
    "data-pipelines-runs-rejected.json": 200,
    # The runner has ended the run by then: nothing left to cancel.
    "data-pipelines-runs-cancel.json": 409,
    "data-datasets-list.json": 200,
    "data-datasets-get.json": 200,
    "data-datasets-rows.json": 200,
    "data-datasets-delete.json": 200,
    "data-pipelines-delete-dataset.json": 200,
    "insights-query.json": 200,
    "insights-queries-create.json": 201,
    "insights-queries-list.json": 200,
    "insights-queries-get.json": 200,
    "insights-queries-update.json": 200,
    "insights-queries-run.json": 200,
    "insights-queries-delete.json": 200,
    "insights-audiences-create.json": 201,
    "insights-audiences-list.json": 200,
    "insights-audiences-get.json": 200,
    "insights-audiences-update.json": 200,
    "insights-audiences-refresh.json": 200,
    "insights-audiences-members.json": 200,
    "insights-audiences-delete.json": 200,
}

# Events whose answers fill placeholders of later ones, in the order they run.
FIRST = [
    "auth-signup.json",
    "auth-api-keys-create.json",
    "admin-api-roles-create.json",
    "admin-users-invite.json",
    "admin-invites-accept.json",
    "admin-api-users-create.json",
    "auth-api-service-accounts-create.json",
    "sync-policies-create.json",
    "records-create.json",
    "webhooks-create.json",
    "links-create.json",
    # The custom field first: the contact saved next gives it a value.
    "crm-custom-fields-save.json",
    "crm-contacts-save.json",
    "crm-activities-save.json",
    # The upload before the update: the update sets the type of a column it staged.
    "data-sources-create.json",
    "data-sources-rows.json",
    "data-schemas-create.json",
    "data-mappings-create.json",
    "data-pipelines-create.json",
    "data-pipelines-create-dataset.json",
    # Runs queued, then worked on by the runner (as the run queue would hand them).
    "data-pipelines-run.json",
    "data-pipelines-run-dataset.json",
    "insights-queries-create.json",
    "insights-audiences-create.json",
    "runner-queue.json",
    "runner-queue-dataset.json",
    # The stream batch fans a webhook.test event out into a job, which the queue
    # lists; its id fills {{JOB_ID}} for the queue batch and the retry.
    "dispatcher-stream.json",
    "sync-queue.json",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def order(names):
    """The events that create what others name first, then the rest, deletes last
    (a pipeline's first: what it uses cannot go before it)."""
    rest = sorted(n for n in names if n not in FIRST)
    return FIRST + [n for n in rest if "delete" not in n and "rotate" not in n] + \
        [n for n in rest if "rotate" in n] + \
        sorted((n for n in rest if "delete" in n), key=lambda n: ("pipelines" not in n, n))


def main():
    if "DYNAMODB_ENDPOINT" not in os.environ or "SQS_ENDPOINT" not in os.environ:
        sys.exit("DYNAMODB_ENDPOINT and SQS_ENDPOINT are not set; run scripts/test")
    names = [p.name for p in EVENTS.glob("*.json")]
    missing = sorted(set(names) - set(EXPECTED))
    if missing:
        sys.exit(f"no expected status for {missing}: add them to EXPECTED in {__file__}")

    prefix = f"replay{int(time.time())}{os.getpid()}"
    env = dict(os.environ)
    lambda_env = {
        "MAIN_TABLE": f"{prefix}-main",
        "EVENTS_TABLE": f"{prefix}-events",
        "JOBS_TABLE": f"{prefix}-jobs",
        "RELINX_JWT_SECRET": secrets.token_urlsafe(32),
        "RELINX_KEY_PEPPER": secrets.token_urlsafe(32),
        "RELINX_SIGNUP_MODE": "open",
        "RELINX_PLAN_SELECTION": "allowed",
        "DYNAMODB_ENDPOINT": os.environ["DYNAMODB_ENDPOINT"],
        "RUST_LOG": "warn",
    }
    init = subprocess.run(
        ["cargo", "run", "--quiet", "-p", "relinx-devserver", "--bin", "relinx-dev", "--", "--init-only"],
        cwd=ROOT, env={**env, "RELINX_TABLE_PREFIX": prefix}, check=True, capture_output=True, text=True,
    )
    queue_url = next((line.split(": ", 1)[1] for line in init.stdout.splitlines()
                      if line.startswith("delivery queue: ")), None)
    if not queue_url:
        sys.exit(f"relinx-dev --init-only made no delivery queue: {init.stdout} {init.stderr}")
    lambda_env["DELIVERY_QUEUE_URL"] = queue_url
    run_queue_url = next((line.split(": ", 1)[1] for line in init.stdout.splitlines()
                          if line.startswith("run queue: ")), None)
    if not run_queue_url:
        sys.exit(f"relinx-dev --init-only made no run queue: {init.stdout} {init.stderr}")
    lambda_env["RUN_QUEUE_URL"] = run_queue_url
    lambda_env["SQS_ENDPOINT"] = os.environ["SQS_ENDPOINT"]
    subprocess.run(["cargo", "build", "--quiet", "-p", "auth-fn", "-p", "admin-fn", "-p", "records-fn", "-p", "sync-fn", "-p", "audit-fn", "-p", "webhooks-fn", "-p", "dispatcher-fn", "-p", "links-fn", "-p", "redirect-fn", "-p", "crm-fn", "-p", "data-fn", "-p", "runner-fn", "-p", "insights-fn", "--bins"], cwd=ROOT, check=True)

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env_file = pathlib.Path(tmp) / "lambda.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in lambda_env.items()))
        watch = subprocess.Popen(
            ["cargo", "lambda", "watch", "--quiet", "--ignore-changes", "--invoke-address", "127.0.0.1",
             "--invoke-port", str(port), "--env-file", str(env_file)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(pathlib.Path(tmp) / "watch.log", "w"),
        )
        try:
            return replay(tmp, port, names)
        finally:
            watch.terminate()
            try:
                watch.wait(timeout=10)
            except subprocess.TimeoutExpired:
                watch.kill()


def invoke(tmp, port, name, values):
    text = (EVENTS / name).read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    data = pathlib.Path(tmp) / name
    data.write_text(text)
    function = name.split("-", 1)[0]
    for attempt in range(60):
        out = subprocess.run(
            ["cargo", "lambda", "invoke", function, "--data-file", str(data), "--invoke-address", "127.0.0.1", "--invoke-port", str(port),
             "--output-format", "json"],
            cwd=ROOT, capture_output=True, text=True,
        )
        if out.returncode == 0:
            break
        # The emulator may still be starting or compiling the function.
        time.sleep(1)
    else:
        raise RuntimeError(f"{name}: cargo lambda invoke failed: {out.stderr.strip()[-500:]}")
    response = json.loads(out.stdout)
    if function in ("dispatcher", "runner"):
        handled = response.get("batchItemFailures") == [] or "sent" in response
        return (NO_FAILURES if handled else json.dumps(response)[:200]), response
    body = response.get("body") or ""
    try:
        body = json.loads(body)
    except ValueError:
        pass
    return response.get("statusCode"), body


def capture(name, body, values):
    """Fills placeholders from an answer."""
    data = body.get("data", {}) if isinstance(body, dict) else {}
    if name == "auth-signup.json":
        values.update(API_KEY=body["api_key"], WORKSPACE_ID=body["workspace_id"],
                      ORG_ID=body["org_id"], USER_ID=body["user_id"])
    elif name == "auth-api-keys-create.json":
        values["KEY_ID"] = body["id"]
    elif name == "admin-users-invite.json":
        values["INVITED_ID"] = body["id"]
        values["INVITE_TOKEN"] = body["invite_url"].split("/v1/invites/")[1].split("/")[0]
    elif name == "admin-api-users-create.json":
        values["INVITED2_ID"] = data["id"]
    elif name == "auth-api-service-accounts-create.json":
        values["SA_ID"] = data["id"]
    elif name == "webhooks-create.json":
        values["WEBHOOK_ID"] = body["id"]
    elif name == "links-create.json":
        values["LINK_ID"] = body["id"]
    elif name == "crm-contacts-save.json":
        values["CONTACT_ID"] = str(data["id"])
    elif name == "insights-audiences-create.json":
        values["AUDIENCE_ID"] = data["id"]
    elif name == "insights-queries-create.json":
        values["QUERY_ID"] = data["id"]
    elif name == "data-sources-create.json":
        values["SOURCE_ID"] = data["id"]
    elif name == "data-pipelines-create.json":
        values["PIPELINE_ID"] = data["id"]
    elif name == "data-pipelines-create-dataset.json":
        values["DATASET_PIPELINE_ID"] = data["id"]
    elif name == "data-pipelines-run.json":
        values["RUN_ID"] = data["run_id"]
    elif name == "data-pipelines-run-dataset.json":
        values["DATASET_RUN_ID"] = data["run_id"]
    elif name == "data-mappings-create.json":
        values["MAPPING_ID"] = data["id"]
    elif name == "data-schemas-create.json":
        values["SCHEMA_ID"] = data["id"]
    elif name == "crm-activities-save.json":
        values["ACTIVITY_ID"] = str(data["id"])
    elif name == "sync-queue.json" and data:
        values["JOB_ID"] = data[0]["id"]
    elif name in ("records-create.json", "records-update.json"):
        values.update(RECORD_ID=body["id"], CAUSAL=body["causal"])


def replay(tmp, port, names):
    values = {
        "EMAIL": f"replay-{secrets.token_hex(6)}@example.com",
        "PASSWORD": secrets.token_urlsafe(16),
        "RUN": secrets.token_hex(4),
    }
    passed = failed = 0
    for name in order(names):
        status, body = invoke(tmp, port, name, values)
        ok = status == EXPECTED[name] and (status == NO_FAILURES or status < 500)
        passed, failed = passed + ok, failed + (not ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {status} (expected {EXPECTED[name]})", flush=True)
        if not ok:
            print(f"     body: {json.dumps(body)[:400]}", flush=True)
        if ok:
            capture(name, body, values)
        if name == "auth-signup.json" and not ok:
            break
    print(f"events: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
