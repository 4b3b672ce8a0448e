import dataclasses
import datetime
import threading

import pytest
from botocore import credentials as botocore_credentials
from botocore.session import Session
from botocore.stub import Stubber

from python_connector import config
from python_connector.aws import client as aws

BASE = {"dynamodb.table.includelist": "orders", "name": "orders-cdc"}
ROLE = "arn:aws:iam::123456789012:role/dynamodb-cdc"


def cfg(**extra):
    return config.parse({**BASE, **{k.replace("_", "."): v for k, v in extra.items()}})


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                 "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize(("settings", "env", "expected"), [
    ({"aws.region": "eu-central-1"}, {}, ("eu-central-1", "aws.region")),
    ({"dynamodb.service.endpoint": "https://dynamodb.ap-southeast-2.amazonaws.com"}, {},
     ("ap-southeast-2", "dynamodb.service.endpoint")),
    ({"dynamodb.service.endpoint": "http://127.0.0.1:8000"}, {"AWS_REGION": "us-west-2"},
     ("us-west-2", "the default AWS region chain")),
    ({}, {"AWS_DEFAULT_REGION": "sa-east-1"}, ("sa-east-1", "the default AWS region chain")),
    ({}, {}, ("us-east-1", "the fallback default")),
])
def test_region_comes_from_setting_then_endpoint_then_chain(clean_env, monkeypatch, settings, env, expected):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert aws.resolve_region(config.parse({**BASE, **settings})) == expected


def test_access_keys_are_used_as_given(clean_env):
    creds = aws.resolve_credentials(config.parse({**BASE, "aws.access.key.id": "AKIA1",
                                                  "aws.secret.access.key": "secret1"}))
    assert (creds.access_key, creds.secret_key) == ("AKIA1", "secret1")


def test_without_keys_the_default_chain_is_used(clean_env, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
    creds = aws.resolve_credentials(config.parse(BASE))
    assert creds.get_frozen_credentials().access_key == "AKIAENV"


def test_no_credentials_anywhere_is_a_clear_error(clean_env):
    with pytest.raises(aws.AwsError, match="default AWS credential chain found none"):
        aws.resolve_credentials(config.parse(BASE))


def assume_role_answer(key: str, expires: datetime.datetime) -> dict:
    return {"Credentials": {"AccessKeyId": key, "SecretAccessKey": f"{key}-secret", "SessionToken": f"{key}-token",
                            "Expiration": expires},
            "AssumedRoleUser": {"AssumedRoleId": "AROA:x", "Arn": ROLE + "/x"}}


def test_iam_role_is_assumed_with_external_id_and_refreshed_before_expiry(clean_env, monkeypatch):
    session = Session()
    sts = session.create_client("sts", region_name="us-east-1", aws_access_key_id="AKIASRC",
                                aws_secret_access_key="src")
    stubber = Stubber(sts)
    now = datetime.datetime.now(datetime.UTC)
    expected = {"RoleArn": ROLE, "RoleSessionName": "ddb-cdc-orders-cdc", "ExternalId": "ext-42"}
    for key, hours in (("ASIAFIRST0000001", 1), ("ASIASECOND000002", 2)):
        stubber.add_response("assume_role", assume_role_answer(key, now + datetime.timedelta(hours=hours)), expected)
    stubber.activate()
    monkeypatch.setattr(session, "create_client", lambda *a, **k: sts)
    clock = [now]
    monkeypatch.setattr(botocore_credentials, "_local_now", lambda: clock[0])  # the fetcher's own expiry check

    creds = aws.resolve_credentials(config.parse({
        **BASE, "authentication.method": "IAM Roles", "provider.integration.id": ROLE, "aws.iam.external.id": "ext-42",
        "aws.access.key.id": "AKIASRC", "aws.secret.access.key": "src"}), session, now=lambda: clock[0])
    assert creds.get_frozen_credentials().access_key == "ASIAFIRST0000001"
    # 55 minutes later the credentials are inside botocore's refresh window: a new role session is taken.
    clock[0] = now + datetime.timedelta(minutes=55)
    assert creds.get_frozen_credentials().access_key == "ASIASECOND000002"
    stubber.assert_no_pending_responses()


class FlakyClient(aws.JsonClient):
    """A real client whose transport fails the first calls with the given errors."""

    def __init__(self, errors, retry=None):
        self.sleeps = []
        retry = dataclasses.replace(retry or aws.RetryPolicy(), sleep=self.sleeps.append)
        super().__init__("http://unused", "us-east-1", botocore_credentials.Credentials("a", "b"), "DynamoDB_20120810",
                         retry=retry)
        self.errors = list(errors)

    def _send(self, operation, payload):
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": True}


@pytest.mark.parametrize(("code", "status", "retried"), [
    ("ProvisionedThroughputExceededException", 400, True),
    ("ThrottlingException", 400, True),
    ("RequestLimitExceeded", 400, True),
    ("InternalServerError", 500, True),
    ("ConnectionError", 0, True),
    ("ResourceNotFoundException", 400, False),
    ("AccessDeniedException", 400, False),
    ("ValidationException", 400, False),
])
def test_only_throttling_server_and_connection_errors_are_retried(code, status, retried):
    client = FlakyClient([aws.AwsError("Scan", code, "m", status)] * 2)
    if retried:
        assert client.call("Scan", {}) == {"ok": True}
        assert len(client.sleeps) == 2
    else:
        with pytest.raises(aws.AwsError, match=code):
            client.call("Scan", {})
        assert client.sleeps == []


def test_retries_stop_when_the_elapsed_budget_is_spent():
    ticks = iter(range(0, 1000, 50))
    client = FlakyClient([aws.AwsError("Scan", "ThrottlingException", "m", 400)] * 100,
                         retry=aws.RetryPolicy(max_elapsed_s=120, clock=lambda: next(ticks)))
    with pytest.raises(aws.AwsError, match="ThrottlingException"):
        client.call("Scan", {})
    assert len(client.sleeps) == 2  # failures at 50 and 100 s are retried; at 150 s the 120 s budget is spent


def test_backoff_is_capped_full_jitter():
    policy = aws.RetryPolicy(base_s=0.05, cap_s=5.0)
    assert policy.delay(0, rand=lambda: 1.0) == 0.05
    assert policy.delay(3, rand=lambda: 1.0) == 0.4
    assert policy.delay(30, rand=lambda: 1.0) == 5.0
    assert policy.delay(30, rand=lambda: 0.0) == 0.0


def test_a_dead_endpoint_is_not_retried_once_the_task_abandons_its_calls():
    gone = aws.AwsError("UpdateItem", "ConnectionError", "http://ddb unreachable", 0)
    client = FlakyClient([gone] * 10_000)
    abandoned = threading.Event()
    client.abandon_retries_when(abandoned)
    failures = []

    def update():
        try:
            client.call("UpdateItem", {})
        except aws.AwsError as e:
            failures.append(e)

    caller = threading.Thread(target=update, daemon=True)
    caller.start()
    caller.join(0.5)
    assert caller.is_alive()  # retrying, in back-off
    abandoned.set()
    caller.join(2)
    assert not caller.is_alive() and failures  # before: on for the policy's 120 s, and again for the next lease
    left = len(client.errors)
    with pytest.raises(aws.AwsError, match="ConnectionError"):
        client.call("UpdateItem", {})
    assert len(client.errors) == left - 1  # one attempt, no retry
