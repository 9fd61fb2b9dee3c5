#!/usr/bin/env python3
"""moto server plus an emulator of the Systems Manager operations moto lacks.

Run with the moto venv's Python (scripts/tools-env.sh):

    $RAMPART_PYTHON scripts/moto-ssm.py -H 127.0.0.1 -p 5000

It serves moto's own app, wrapped in a WSGI middleware. A request whose
`X-Amz-Target` is `AmazonSSM.<Op>` for one of the operations in `HANDLERS`
is answered here, in the real awsJson1.1 wire protocol (JSON body,
`application/x-amz-json-1.1`, HTTP 400 with a `__type` error shape, epoch
seconds for timestamps, `NextToken`/`MaxResults` paging); every other
request goes to moto unchanged, so one endpoint serves both.

Emulated operations: DescribeInstanceInformation, DescribeInstancePatchStates,
ListResourceComplianceSummaries, GetInventory, ListInventoryEntries,
CreateAssociation, DescribeAssociation, ListAssociations, UpdateAssociation,
DeleteAssociation, ListTagsForResource for associations (their `Tags`
as created; other resource types are moto's), the service settings
(GetServiceSetting, UpdateServiceSetting, ResetServiceSetting, for the ids
in `SERVICE_SETTING_DEFAULTS`, which answer their AWS default until
updated), and Run Command: SendCommand,
GetCommandInvocation, ListCommandInvocations, ListCommands, CancelCommand
(moto's own, partial SendCommand family is never reached).

State is kept per account and region. The account is moto's for the
request's access key (so credentials from `AssumeRole` into another account
see that account's state), the region is the one in the SigV4 credential
scope. What an SSM Agent would report (registration, patch scans, compliance,
inventory) is seeded by tests through test-only routes, all `POST` with a
JSON body; `account` defaults to 123456789012 and `region` to us-east-1:

    /_ssm_emulator/managed-instances  {"account","region","instances":[InstanceInformation]}
    /_ssm_emulator/patch-states       {"account","region","states":[InstancePatchState]}
    /_ssm_emulator/compliance         {"account","region","items":[ResourceComplianceSummaryItem]}
    /_ssm_emulator/inventory          {"account","region","instanceId","typeName",
                                       "captureTime","schemaVersion","entries":[{..}]}
    /_ssm_emulator/command-outputs    {"account","region","instanceId","documentName",
                                       "status","statusDetails","responseCode",
                                       "stdout","stderr","polls","notFoundPolls"}
    /_ssm_emulator/recorded-responses {"service","operation" | "request","status",
                                       "contentType","body","headers",
                                       "region","contains","requestBody"}
    /_ssm_emulator/reset              {}   (also done by moto's /moto-api/reset)

Recorded responses stand in for services or operations moto does not model
at all: a request signed for `service` (the SigV4 credential scope's signing
name) whose operation is `operation` (the `X-Amz-Target` suffix or the query
protocol's `Action`), or whose `METHOD /path` fully matches the regular
expression `request` (REST protocols), is answered with `status`,
`contentType`, `body` and extra `headers` (`{"x-amzn-ErrorType": ..}`)
exactly as given: the service's own wire format, as the API reference
documents it. Optional `region` narrows a recording to
requests signed for that region, optional `contains` to requests whose body,
query string or path contains that text (one resource's ARN or name),
optional `requestBody` to requests whose body contains a match of that
regular expression (one item of a per-item describe). The
latest matching recording wins; other requests go on to moto.

Objects are in the API's own JSON shapes (timestamps as epoch seconds), and
are returned as seeded. Seeding a managed instance, patch state or
compliance item again with the same id replaces it. `GET /_ssm_emulator/state`
returns the whole state (associations included) as JSON, for assertions.

Associations are created, read, updated and deleted through the real
operations; nothing runs them (no agent), so their status stays `Pending`
unless a test seeds compliance. A document name is accepted when it is an
AWS-owned one (`AWS-…`, `Amazon…`) or a document moto holds in that account
and region.

Run Command accepts `AWS-RunShellScript` and `AWS-RunPowerShellScript`
(`InvalidDocument` otherwise) sent by `InstanceIds` (no `Targets`) to
managed instances seeded with `PingStatus` `Online` (`InvalidInstanceId`
otherwise, as AWS). Nothing runs: each seeded command output is a queue
entry per instance and document, consumed by the next command sent there.
Its invocation answers `InProgress` (ResponseCode -1) to the first `polls`
GetCommandInvocation calls (default 1), then the seeded `status` (Success,
Failed, TimedOut, Cancelled), `responseCode` (default 0 on Success, else 1)
and streams, cut to SSM's first 24,000 (stdout) and 8,000 (stderr)
characters. `notFoundPolls` (default 0) GetCommandInvocation calls before
those answer `InvocationDoesNotExist`, as SSM may right after SendCommand
(ListCommandInvocations leaves the invocation out meanwhile).
ListCommands / ListCommandInvocations show the current state
without counting as polls. With no output seeded, an invocation ends
`Failed` with stderr `no output seeded for <instance>`. The state dump lists
every command sent (its `Parameters.commands` verbatim, invocations and
polls left) and the outputs not yet consumed.
"""

import base64
import io
import datetime
import json
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote

from moto import server as moto_server
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

JSON_1_1 = "application/x-amz-json-1.1"
DEFAULT_REGION = "us-east-1"
ROUTE = "/_ssm_emulator/"

LOCK = threading.RLock()
STATE = {}


class AwsError(Exception):
    """An SSM error: `__type` code and message, HTTP 400."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def fresh():
    return {
        "instances": {},
        "patch_states": {},
        "compliance": {},
        "inventory": {},
        "associations": {},
        "commands": {},
        "command_outputs": {},
        "service_settings": {},
    }


def scope(account, region):
    key = (account or DEFAULT_ACCOUNT_ID, region or DEFAULT_REGION)
    return STATE.setdefault(key, fresh())


# ---------------------------------------------------------------- helpers


def now():
    return time.time()


def page(items, body, default_max, lo, hi):
    """One page of `items` by `MaxResults`/`NextToken` (an opaque offset)."""
    max_results = body.get("MaxResults", default_max)
    if not isinstance(max_results, int) or not lo <= max_results <= hi:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{max_results}' at 'maxResults' "
            f"failed to satisfy constraint: Member must have value between {lo} and {hi}",
        )
    start = 0
    token = body.get("NextToken")
    if token:
        try:
            start = int(base64.b64decode(token).decode().split(":", 1)[1])
        except Exception:
            raise AwsError("InvalidNextToken", "The specified token is not valid.")
        if start < 0 or start > len(items):
            raise AwsError("InvalidNextToken", "The specified token is not valid.")
    chunk = items[start : start + max_results]
    end = start + len(chunk)
    next_token = None
    if end < len(items):
        next_token = base64.b64encode(f"offset:{end}".encode()).decode()
    return chunk, next_token


def with_token(out, token):
    if token:
        out["NextToken"] = token
    return out


INSTANCE_ID = re.compile(r"^(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17})$")


def check_instance_id(instance_id):
    if not isinstance(instance_id, str) or not INSTANCE_ID.match(instance_id):
        raise AwsError("InvalidInstanceId", "Instance Id is invalid")


def string_filter(value, values, kind):
    """A `*StringFilter` match (EQUAL, NOT_EQUAL, BEGIN_WITH, LESS_THAN, GREATER_THAN)."""
    value = "" if value is None else str(value)
    kind = kind or "Equal"
    kind = kind.upper()
    if kind == "EQUAL":
        return value in values
    if kind == "NOT_EQUAL":
        return value not in values
    if kind in ("BEGIN_WITH", "BEGINWITH"):
        return any(value.startswith(v) for v in values)
    if kind == "LESS_THAN":
        return any(value < v for v in values)
    if kind == "GREATER_THAN":
        return any(value > v for v in values)
    if kind == "EXISTS":
        return value != ""
    raise AwsError("InvalidFilter", f"filter type `{kind}` is not supported")


# ----------------------------------------------------- managed instances

INFO_FILTER_KEYS = {
    "InstanceIds": "InstanceId",
    "AgentVersion": "AgentVersion",
    "PingStatus": "PingStatus",
    "PlatformTypes": "PlatformType",
    "ActivationIds": "ActivationId",
    "IamRole": "IamRole",
    "ResourceType": "ResourceType",
    "AssociationStatus": "AssociationStatus",
}


def describe_instance_information(st, body):
    items = sorted(st["instances"].values(), key=lambda i: i["InstanceId"])
    filters = []
    for f in body.get("InstanceInformationFilterList") or []:
        filters.append((f.get("key"), f.get("valueSet") or []))
    for f in body.get("Filters") or []:
        filters.append((f.get("Key"), f.get("Values") or []))
    for key, values in filters:
        if key not in INFO_FILTER_KEYS:
            raise AwsError("InvalidFilterKey", f"filter key `{key}` is not valid")
        if not values:
            raise AwsError(
                "InvalidInstanceInformationFilterValue",
                f"filter `{key}` needs at least one value",
            )
        if key == "InstanceIds":
            for v in values:
                check_instance_id(v)
        field = INFO_FILTER_KEYS[key]
        items = [i for i in items if i.get(field) in values]
    chunk, token = page(items, body, 50, 5, 50)
    return with_token({"InstanceInformationList": chunk}, token)


def describe_instance_patch_states(st, body):
    ids = body.get("InstanceIds")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 50:
        raise AwsError(
            "ValidationException",
            "1 validation error detected: Value at 'instanceIds' failed to satisfy "
            "constraint: Member must have length between 1 and 50",
        )
    states = [st["patch_states"][i] for i in ids if i in st["patch_states"]]
    chunk, token = page(states, body, 50, 10, 100)
    return with_token({"InstancePatchStates": chunk}, token)


COMPLIANCE_FILTER_KEYS = {
    "ComplianceType": "ComplianceType",
    "Status": "Status",
    "ResourceId": "ResourceId",
    "ResourceType": "ResourceType",
    "OverallSeverity": "OverallSeverity",
}


def list_resource_compliance_summaries(st, body):
    items = [
        st["compliance"][k] for k in sorted(st["compliance"])
    ]
    for f in body.get("Filters") or []:
        key = f.get("Key")
        if key not in COMPLIANCE_FILTER_KEYS:
            raise AwsError("InvalidFilter", f"filter key `{key}` is not valid")
        field = COMPLIANCE_FILTER_KEYS[key]
        values = f.get("Values") or []
        items = [i for i in items if string_filter(i.get(field), values, f.get("Type"))]
    chunk, token = page(items, body, 50, 1, 50)
    return with_token({"ResourceComplianceSummaryItems": chunk}, token)


# ------------------------------------------------------------- inventory

TYPE_NAME = re.compile(r"^(AWS|Custom):[A-Za-z0-9_.\-]+$")


def check_type_name(type_name):
    if not isinstance(type_name, str) or not TYPE_NAME.match(type_name):
        raise AwsError("InvalidTypeNameException", f"type name `{type_name}` is not valid")


def entry_filter(entries, filters, type_name):
    for f in filters or []:
        key = f.get("Key", "")
        attribute = key.split(".", 1)[1] if key.startswith(type_name + ".") else key
        values = f.get("Values") or []
        entries = [e for e in entries if string_filter(e.get(attribute), values, f.get("Type"))]
    return entries


def list_inventory_entries(st, body):
    instance_id = body.get("InstanceId")
    check_instance_id(instance_id)
    if instance_id not in st["instances"]:
        raise AwsError("InvalidInstanceId", f"Instance Id {instance_id} is not a managed instance")
    type_name = body.get("TypeName")
    check_type_name(type_name)
    item = st["inventory"].get(instance_id, {}).get(type_name)
    out = {"TypeName": type_name, "InstanceId": instance_id}
    entries = []
    if item is not None:
        out["SchemaVersion"] = item["SchemaVersion"]
        out["CaptureTime"] = item["CaptureTime"]
        entries = entry_filter(item["Content"], body.get("Filters"), type_name)
    chunk, token = page(entries, body, 50, 1, 50)
    out["Entries"] = chunk
    return with_token(out, token)


def get_inventory(st, body):
    if body.get("Aggregators"):
        raise AwsError(
            "InvalidAggregatorException",
            "the emulator does not implement inventory aggregators",
        )
    wanted = None
    if body.get("ResultAttributes"):
        wanted = []
        for attr in body["ResultAttributes"]:
            check_type_name(attr.get("TypeName"))
            wanted.append(attr["TypeName"])
    entities = []
    for instance_id in sorted(st["inventory"]):
        data = st["inventory"][instance_id]
        ok = True
        for f in body.get("Filters") or []:
            key = f.get("Key", "")
            if "." not in key:
                raise AwsError("InvalidFilter", f"filter key `{key}` is not valid")
            type_name, attribute = key.rsplit(".", 1)
            values = f.get("Values") or []
            item = data.get(type_name)
            if item is None:
                ok = False
                break
            if not any(
                string_filter(c.get(attribute), values, f.get("Type")) for c in item["Content"]
            ):
                ok = False
                break
        if not ok:
            continue
        selected = {
            name: item for name, item in data.items() if wanted is None or name in wanted
        }
        if wanted is not None and not selected:
            continue
        entities.append({"Id": instance_id, "Data": selected})
    chunk, token = page(entities, body, 50, 1, 50)
    return with_token({"Entities": chunk}, token)


# ---------------------------------------------------------- associations


def document_exists(account, region, name):
    if name.startswith("AWS-") or name.startswith("Amazon") or name.startswith("arn:aws:ssm:"):
        return True
    try:
        from moto.ssm.models import ssm_backends

        return name in ssm_backends[account][region]._documents
    except Exception:
        return False


ASSOCIATION_FIELDS = [
    "Name",
    "InstanceId",
    "DocumentVersion",
    "Parameters",
    "Targets",
    "ScheduleExpression",
    "OutputLocation",
    "AssociationName",
    "AutomationTargetParameterName",
    "MaxErrors",
    "MaxConcurrency",
    "ComplianceSeverity",
    "SyncCompliance",
    "ApplyOnlyAtCronInterval",
    "CalendarNames",
    "TargetLocations",
    "ScheduleOffset",
    "Duration",
    "TargetMaps",
    "AlarmConfiguration",
]

LIST_FIELDS = [
    "Name",
    "InstanceId",
    "AssociationId",
    "AssociationVersion",
    "DocumentVersion",
    "Targets",
    "LastExecutionDate",
    "Overview",
    "ScheduleExpression",
    "AssociationName",
    "ScheduleOffset",
    "Duration",
    "TargetMaps",
]

SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\)|at\(.+\))$")


def validate_association(ctx, body, creating):
    name = body.get("Name")
    if creating or name is not None:
        if not isinstance(name, str) or not name:
            raise AwsError("ValidationException", "1 validation error detected: Name is required")
        if not document_exists(ctx["account"], ctx["region"], name):
            raise AwsError("InvalidDocument", f"Document {name} does not exist")
    if body.get("InstanceId") is not None:
        check_instance_id(body["InstanceId"])
        if body.get("Targets"):
            raise AwsError("InvalidTarget", "InstanceId and Targets cannot both be given")
    for t in body.get("Targets") or []:
        if not t.get("Key") or not t.get("Values"):
            raise AwsError("InvalidTarget", "each target needs a Key and Values")
    expr = body.get("ScheduleExpression")
    if expr is not None and not SCHEDULE.match(expr):
        raise AwsError("InvalidSchedule", f"schedule expression `{expr}` is not valid")


def create_association(st, body, ctx):
    validate_association(ctx, body, creating=True)
    if body.get("InstanceId") is None and not body.get("Targets"):
        raise AwsError("InvalidTarget", "give InstanceId or Targets")
    if body.get("InstanceId") is not None:
        for a in st["associations"].values():
            if a["Name"] == body["Name"] and a.get("InstanceId") == body["InstanceId"]:
                raise AwsError("AssociationAlreadyExists", "The association already exists.")
    association_id = str(uuid.uuid4())
    stamp = now()
    desc = {k: body[k] for k in ASSOCIATION_FIELDS if body.get(k) is not None}
    desc.update(
        {
            "AssociationId": association_id,
            "AssociationVersion": "1",
            "Date": stamp,
            "LastUpdateAssociationDate": stamp,
            "Overview": {"Status": "Pending", "DetailedStatus": "Creating"},
            "Status": {"Date": stamp, "Name": "Pending", "Message": "Associated with the target"},
        }
    )
    desc.setdefault("DocumentVersion", "$DEFAULT")
    if body.get("Tags"):
        desc["_Tags"] = body["Tags"]
    st["associations"][association_id] = desc
    return {"AssociationDescription": public(desc)}


def public(desc):
    return {k: v for k, v in desc.items() if not k.startswith("_")}


def find_association(st, body):
    association_id = body.get("AssociationId")
    if association_id:
        desc = st["associations"].get(association_id)
        if desc is None:
            raise AwsError("AssociationDoesNotExist", "The association does not exist.")
        return desc
    name, instance_id = body.get("Name"), body.get("InstanceId")
    if not name or not instance_id:
        raise AwsError(
            "ValidationException", "give AssociationId, or Name and InstanceId"
        )
    check_instance_id(instance_id)
    for desc in st["associations"].values():
        if desc["Name"] == name and desc.get("InstanceId") == instance_id:
            return desc
    raise AwsError("AssociationDoesNotExist", "The association does not exist.")


def describe_association(st, body, _ctx):
    desc = find_association(st, body)
    version = body.get("AssociationVersion")
    if version is not None and version not in ("$LATEST", desc["AssociationVersion"]):
        raise AwsError("InvalidAssociationVersion", f"version `{version}` does not exist")
    return {"AssociationDescription": public(desc)}


ASSOCIATION_FILTER_KEYS = {
    "InstanceId": "InstanceId",
    "Name": "Name",
    "AssociationId": "AssociationId",
    "AssociationName": "AssociationName",
    "AssociationStatusName": None,
}


def list_associations(st, body, _ctx):
    items = sorted(st["associations"].values(), key=lambda a: (a["Date"], a["AssociationId"]))
    for f in body.get("AssociationFilterList") or []:
        key, value = f.get("key"), f.get("value")
        if key not in ASSOCIATION_FILTER_KEYS:
            raise AwsError("ValidationException", f"filter key `{key}` is not valid")
        if key == "AssociationStatusName":
            items = [a for a in items if a["Overview"].get("Status") == value]
        else:
            items = [a for a in items if a.get(ASSOCIATION_FILTER_KEYS[key]) == value]
    chunk, token = page(items, body, 50, 1, 50)
    listed = [{k: a[k] for k in LIST_FIELDS if k in a} for a in chunk]
    return with_token({"Associations": listed}, token)


def update_association(st, body, ctx):
    if not body.get("AssociationId"):
        raise AwsError("ValidationException", "AssociationId is required")
    desc = find_association(st, {"AssociationId": body["AssociationId"]})
    version = body.get("AssociationVersion")
    if version is not None and version not in ("$LATEST", desc["AssociationVersion"]):
        raise AwsError(
            "InvalidAssociationVersion",
            f"version `{version}` is not the association's latest version",
        )
    if body.get("Name") is not None and body["Name"] != desc["Name"]:
        raise AwsError("InvalidUpdate", "the document of an association cannot change")
    validate_association(ctx, {k: v for k, v in body.items() if k != "InstanceId"}, creating=False)
    for k in ASSOCIATION_FIELDS:
        if k in ("Name", "InstanceId"):
            continue
        if body.get(k) is not None:
            desc[k] = body[k]
    desc["AssociationVersion"] = str(int(desc["AssociationVersion"]) + 1)
    desc["LastUpdateAssociationDate"] = now()
    return {"AssociationDescription": public(desc)}


def delete_association(st, body, _ctx):
    desc = find_association(st, body)
    del st["associations"][desc["AssociationId"]]
    return {}


# ListTagsForResource for associations (moto keeps no associations); other
# resource types fall through to moto.
PASS_TO_MOTO = object()


def list_tags_for_resource(st, body, _ctx):
    if body.get("ResourceType") != "Association":
        return PASS_TO_MOTO
    desc = st["associations"].get(body.get("ResourceId") or "")
    if desc is None:
        raise AwsError("InvalidResourceId", "The resource ID is not valid.")
    return {"TagList": desc.get("_Tags", [])}


# ----------------------------------------------------------- Run Command

# The two AWS-owned Run Command documents the emulator knows, with the
# plugin (step) each one runs and the parameters it declares.
RUN_DOCUMENTS = {
    "AWS-RunPowerShellScript": "aws:runPowerShellScript",
    "AWS-RunShellScript": "aws:runShellScript",
}
RUN_PARAMETERS = ("commands", "workingDirectory", "executionTimeout")
STDOUT_LIMIT = 24000
STDERR_LIMIT = 8000
PLUGIN_OUTPUT_LIMIT = 2500
FINAL_STATUSES = {
    "Success": "Success",
    "Failed": "Failed",
    "TimedOut": "ExecutionTimedOut",
    "Cancelled": "Cancelled",
}
COMMAND_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SEQUENCE = [0]


def iso(stamp):
    """An ISO 8601 string with milliseconds, as GetCommandInvocation writes them."""
    moment = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def validation(message):
    return AwsError("ValidationException", f"1 validation error detected: {message}")


def check_command_id(command_id, required):
    if command_id is None and not required:
        return
    if not isinstance(command_id, str) or len(command_id) != 36:
        raise validation(
            f"Value '{command_id}' at 'commandId' failed to satisfy constraint: "
            "Member must have length between 36 and 36"
        )


def run_parameters(body):
    params = body.get("Parameters")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise AwsError("InvalidParameters", "Parameters must be a map of string lists")
    for key, values in params.items():
        if key not in RUN_PARAMETERS:
            raise AwsError(
                "InvalidParameters",
                f"Parameter \"{key}\" is not declared by document {body['DocumentName']}",
            )
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise AwsError("InvalidParameters", f"Parameter \"{key}\" must be a list of strings")
    if not params.get("commands"):
        raise AwsError("InvalidParameters", "Parameter \"commands\" is required")
    return params


def send_command(st, body, ctx):
    name = body.get("DocumentName")
    if not isinstance(name, str) or not name:
        raise validation("Value null at 'documentName' failed to satisfy constraint: Member must not be null")
    if name not in RUN_DOCUMENTS:
        raise AwsError("InvalidDocument", f"Document {name} does not exist")
    if body.get("Targets"):
        raise AwsError(
            "ValidationException", "the emulator sends commands by InstanceIds only, not Targets"
        )
    ids = body.get("InstanceIds")
    if not isinstance(ids, list) or not ids:
        raise validation("InstanceIds or Targets must be given")
    if len(ids) > 50:
        raise validation(
            "Value at 'instanceIds' failed to satisfy constraint: Member must have length "
            "less than or equal to 50"
        )
    if len(set(ids)) != len(ids):
        raise AwsError("DuplicateInstanceId", "An instance ID appears more than once")
    timeout = body.get("TimeoutSeconds", 3600)
    if not isinstance(timeout, int) or not 30 <= timeout <= 2592000:
        raise validation(
            f"Value '{timeout}' at 'timeoutSeconds' failed to satisfy constraint: "
            "Member must have value between 30 and 2592000"
        )
    comment = body.get("Comment", "")
    if not isinstance(comment, str) or len(comment) > 100:
        raise validation(
            "Value at 'comment' failed to satisfy constraint: Member must have length "
            "less than or equal to 100"
        )
    params = run_parameters(body)
    bad = []
    for instance_id in ids:
        info = st["instances"].get(instance_id) if isinstance(instance_id, str) else None
        if info is None or info.get("PingStatus") != "Online":
            bad.append(str(instance_id))
    if bad:
        raise AwsError(
            "InvalidInstanceId",
            f"Instances [[{', '.join(bad)}]] not in a valid state for account {ctx['account']}",
        )
    stamp = now()
    command_id = str(uuid.uuid4())
    SEQUENCE[0] += 1
    command = {
        "CommandId": command_id,
        "DocumentName": name,
        "DocumentVersion": body.get("DocumentVersion") or "$DEFAULT",
        "Comment": comment,
        "ExpiresAfter": stamp + timeout,
        "Parameters": params,
        "InstanceIds": list(ids),
        "Targets": [],
        "RequestedDateTime": stamp,
        "Status": "Pending",
        "StatusDetails": "Pending",
        "OutputS3Region": body.get("OutputS3Region") or ctx["region"],
        "OutputS3BucketName": body.get("OutputS3BucketName") or "",
        "OutputS3KeyPrefix": body.get("OutputS3KeyPrefix") or "",
        "MaxConcurrency": body.get("MaxConcurrency") or "50",
        "MaxErrors": body.get("MaxErrors") or "0",
        "TargetCount": len(ids),
        "CompletedCount": 0,
        "ErrorCount": 0,
        "DeliveryTimedOutCount": 0,
        "ServiceRole": body.get("ServiceRoleArn") or "",
        "NotificationConfig": body.get("NotificationConfig")
        or {"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""},
        "CloudWatchOutputConfig": body.get("CloudWatchOutputConfig")
        or {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
        "TimeoutSeconds": timeout,
        "_seq": SEQUENCE[0],
        "_invocations": {},
    }
    for instance_id in ids:
        queue = st["command_outputs"].get((instance_id, name)) or []
        if queue:
            out = queue.pop(0)
        else:
            out = {
                "status": "Failed",
                "statusDetails": "Failed",
                "responseCode": 1,
                "stdout": "",
                "stderr": f"no output seeded for {instance_id}",
                "polls": 1,
                "notFoundPolls": 0,
            }
        command["_invocations"][instance_id] = {
            "InstanceId": instance_id,
            "Start": stamp,
            "End": None,
            "PollsLeft": out["polls"],
            "NotFoundLeft": out["notFoundPolls"],
            "Final": out,
        }
        if out["polls"] == 0:
            finish(command["_invocations"][instance_id])
    st["commands"][command_id] = command
    # The reply is the request as received: Pending, whatever was seeded.
    reply = public(command)
    reply.update({"Status": "Pending", "StatusDetails": "Pending", "CompletedCount": 0, "ErrorCount": 0})
    return {"Command": reply}


def finish(inv):
    inv["End"] = max(now(), inv["Start"] + 0.001)


def invocation_status(inv):
    """(Status, StatusDetails, ResponseCode) of one invocation right now."""
    if inv["End"] is None:
        return "InProgress", "InProgress", -1
    final = inv["Final"]
    return final["status"], final["statusDetails"], final["responseCode"]


def refresh(command):
    """The command's aggregate status and counts from its invocations."""
    states = [invocation_status(i) for i in command["_invocations"].values()]
    done = [s for s in states if s[0] in FINAL_STATUSES]
    command["CompletedCount"] = len(done)
    command["ErrorCount"] = sum(
        1 for s in done if s[0] == "Failed" or (s[0] == "TimedOut" and s[1] != "DeliveryTimedOut")
    )
    command["DeliveryTimedOutCount"] = sum(1 for s in done if s[1] == "DeliveryTimedOut")
    if len(done) < len(states):
        status = "InProgress"
    elif all(s[0] == "Success" for s in done):
        status = "Success"
    else:
        status = next(k for k in ("Failed", "TimedOut", "Cancelled") if any(s[0] == k for s in done))
    command["Status"] = status
    command["StatusDetails"] = {"TimedOut": "ExecutionTimedOut"}.get(status, status)
    if status != "InProgress" and command["DeliveryTimedOutCount"] == len(states):
        command["StatusDetails"] = "DeliveryTimedOut"
    return command


def get_command_invocation(st, body, _ctx):
    command_id, instance_id = body.get("CommandId"), body.get("InstanceId")
    check_command_id(command_id, required=True)
    check_instance_id(instance_id)
    command = st["commands"].get(command_id)
    inv = command["_invocations"].get(instance_id) if command else None
    if inv is not None and inv["NotFoundLeft"] > 0:
        # Just sent: SSM may not know the invocation for a moment.
        inv["NotFoundLeft"] -= 1
        inv = None
    if inv is None:
        raise AwsError(
            "InvocationDoesNotExist",
            "The command ID and instance ID you specified did not match any invocations.",
        )
    plugin = RUN_DOCUMENTS[command["DocumentName"]]
    wanted = body.get("PluginName")
    if wanted is not None and wanted != plugin:
        raise AwsError("InvalidPluginName", f"plugin `{wanted}` is not part of this command")
    if inv["End"] is None:
        if inv["PollsLeft"] > 0:
            inv["PollsLeft"] -= 1
        else:
            finish(inv)
    status, details, code = invocation_status(inv)
    done = inv["End"] is not None
    final = inv["Final"]
    elapsed = (inv["End"] if done else now()) - inv["Start"]
    return {
        "CommandId": command_id,
        "InstanceId": instance_id,
        "Comment": command["Comment"],
        "DocumentName": command["DocumentName"],
        "DocumentVersion": command["DocumentVersion"],
        "PluginName": plugin,
        "ResponseCode": code,
        "ExecutionStartDateTime": iso(inv["Start"]),
        "ExecutionElapsedTime": f"PT{elapsed:.3f}S",
        "ExecutionEndDateTime": iso(inv["End"]) if done else "",
        "Status": status,
        "StatusDetails": details,
        "StandardOutputContent": final["stdout"] if done else "",
        "StandardOutputUrl": "",
        "StandardErrorContent": final["stderr"] if done else "",
        "StandardErrorUrl": "",
        "CloudWatchOutputConfig": command["CloudWatchOutputConfig"],
    }


def plugin_output(stdout, stderr):
    """A plugin's `Output` in ListCommandInvocations: both streams, at most 2,500 characters."""
    text = stdout
    if stderr:
        text += "\n----------ERROR-------\n" + stderr
    return text[:PLUGIN_OUTPUT_LIMIT]


def invocation_view(command, inv, details):
    status, status_details, code = invocation_status(inv)
    out = {
        "CommandId": command["CommandId"],
        "InstanceId": inv["InstanceId"],
        "InstanceName": "",
        "Comment": command["Comment"],
        "DocumentName": command["DocumentName"],
        "DocumentVersion": command["DocumentVersion"],
        "RequestedDateTime": command["RequestedDateTime"],
        "Status": status,
        "StatusDetails": status_details,
        "TraceOutput": "",
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "CommandPlugins": [],
        "ServiceRole": command["ServiceRole"],
        "NotificationConfig": command["NotificationConfig"],
        "CloudWatchOutputConfig": command["CloudWatchOutputConfig"],
    }
    if details:
        plugin = {
            "Name": RUN_DOCUMENTS[command["DocumentName"]],
            "Status": status,
            "StatusDetails": status_details,
            "ResponseCode": code,
            "ResponseStartDateTime": inv["Start"],
            "Output": "",
            "StandardOutputUrl": "",
            "StandardErrorUrl": "",
            "OutputS3Region": command["OutputS3Region"],
            "OutputS3BucketName": command["OutputS3BucketName"],
            "OutputS3KeyPrefix": command["OutputS3KeyPrefix"],
        }
        if inv["End"] is not None:
            plugin["ResponseFinishDateTime"] = inv["End"]
            plugin["Output"] = plugin_output(inv["Final"]["stdout"], inv["Final"]["stderr"])
        out["CommandPlugins"] = [plugin]
    return out


COMMAND_FILTER_KEYS = ("InvokedAfter", "InvokedBefore", "Status", "ExecutionStage", "DocumentName")


def parse_instant(value):
    try:
        text = value.replace("Z", "+00:00")
        moment = datetime.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    except (AttributeError, ValueError):
        raise AwsError("InvalidFilterValue", f"`{value}` is not an ISO 8601 date")


def command_filter(filters, requested, status, complete, document):
    """Whether one command (or invocation) passes every `CommandFilter`."""
    if filters is not None and (not isinstance(filters, list) or not 1 <= len(filters) <= 5):
        raise validation("Value at 'filters' failed to satisfy constraint: Member must have length between 1 and 5")
    for f in filters or []:
        key, value = f.get("key"), f.get("value")
        if key not in COMMAND_FILTER_KEYS:
            raise AwsError("InvalidFilterKey", f"filter key `{key}` is not valid")
        if not isinstance(value, str) or not value:
            raise AwsError("InvalidFilterValue", f"filter `{key}` needs a value")
        if key == "InvokedAfter" and not requested >= parse_instant(value):
            return False
        if key == "InvokedBefore" and not requested <= parse_instant(value):
            return False
        if key == "Status" and status != value:
            return False
        if key == "ExecutionStage":
            if value not in ("Executing", "Complete"):
                raise AwsError("InvalidFilterValue", f"ExecutionStage `{value}` is not valid")
            if (value == "Complete") != complete:
                return False
        if key == "DocumentName" and document != value:
            return False
    return True


def selected_commands(st, body):
    command_id, instance_id = body.get("CommandId"), body.get("InstanceId")
    check_command_id(command_id, required=False)
    if instance_id is not None:
        check_instance_id(instance_id)
    if command_id is not None:
        if command_id not in st["commands"]:
            raise AwsError("InvalidCommandId", f"Command {command_id} does not exist")
        commands = [st["commands"][command_id]]
    else:
        commands = sorted(st["commands"].values(), key=lambda c: -c["_seq"])
    return [refresh(c) for c in commands], instance_id


def list_commands(st, body, _ctx):
    commands, instance_id = selected_commands(st, body)
    if instance_id is not None:
        commands = [c for c in commands if instance_id in c["_invocations"]]
    commands = [
        c
        for c in commands
        if command_filter(
            body.get("Filters"),
            c["RequestedDateTime"],
            c["Status"],
            c["Status"] != "InProgress",
            c["DocumentName"],
        )
    ]
    chunk, token = page(commands, body, 50, 1, 50)
    return with_token({"Commands": [public(c) for c in chunk]}, token)


def list_command_invocations(st, body, _ctx):
    commands, instance_id = selected_commands(st, body)
    details = body.get("Details") is True
    rows = []
    for c in commands:
        for inv in c["_invocations"].values():
            if instance_id is not None and inv["InstanceId"] != instance_id:
                continue
            if inv["NotFoundLeft"] > 0:
                continue
            status = invocation_status(inv)[0]
            if command_filter(
                body.get("Filters"),
                c["RequestedDateTime"],
                status,
                inv["End"] is not None,
                c["DocumentName"],
            ):
                rows.append((c, inv))
    chunk, token = page(rows, body, 50, 1, 50)
    return with_token(
        {"CommandInvocations": [invocation_view(c, inv, details) for c, inv in chunk]}, token
    )


def cancel_command(st, body, _ctx):
    command_id = body.get("CommandId")
    check_command_id(command_id, required=True)
    command = st["commands"].get(command_id)
    if command is None:
        raise AwsError("InvalidCommandId", f"Command {command_id} does not exist")
    ids = body.get("InstanceIds") or list(command["_invocations"])
    for instance_id in ids:
        inv = command["_invocations"].get(instance_id)
        if inv is None:
            raise AwsError("InvalidInstanceId", f"Instance {instance_id} is not part of the command")
        if inv["End"] is None:
            inv["Final"] = dict(
                inv["Final"], status="Cancelled", statusDetails="Cancelled", responseCode=-1,
                stdout="", stderr="",
            )
            finish(inv)
    return {}


def seed_command_output(st, payload):
    instance_id = payload.get("instanceId")
    check_instance_id(instance_id)
    document = payload.get("documentName")
    if document not in RUN_DOCUMENTS:
        raise AwsError("InvalidDocument", f"document `{document}` is not one the emulator runs")
    status = payload.get("status", "Success")
    if status not in FINAL_STATUSES:
        raise AwsError(
            "ValidationException",
            f"status `{status}` is not a final status ({', '.join(FINAL_STATUSES)})",
        )
    polls = payload.get("polls", 1)
    not_found = payload.get("notFoundPolls", 0)
    if not isinstance(not_found, int) or not_found < 0:
        raise AwsError("ValidationException", "`notFoundPolls` must be an integer >= 0")
    code = payload.get("responseCode", 0 if status == "Success" else 1)
    if not isinstance(polls, int) or polls < 0 or not isinstance(code, int):
        raise AwsError("ValidationException", "`polls` and `responseCode` must be integers, polls >= 0")
    stdout, stderr = payload.get("stdout", ""), payload.get("stderr", "")
    if not isinstance(stdout, str) or not isinstance(stderr, str):
        raise AwsError("ValidationException", "`stdout` and `stderr` must be strings")
    st["command_outputs"].setdefault((instance_id, document), []).append(
        {
            "status": status,
            "statusDetails": payload.get("statusDetails") or FINAL_STATUSES[status],
            "responseCode": code,
            # SSM returns the first 24,000 / 8,000 characters of the streams.
            "stdout": stdout[:STDOUT_LIMIT],
            "stderr": stderr[:STDERR_LIMIT],
            "polls": polls,
            "notFoundPolls": not_found,
        }
    )


def dump_commands(st):
    out = []
    for c in sorted(st["commands"].values(), key=lambda c: c["_seq"]):
        view = public(refresh(c))
        view["Invocations"] = [
            dict(
                zip(("Status", "StatusDetails", "ResponseCode"), invocation_status(inv)),
                InstanceId=inv["InstanceId"],
                PollsLeft=inv["PollsLeft"],
                NotFoundPollsLeft=inv["NotFoundLeft"],
            )
            for inv in c["_invocations"].values()
        ]
        out.append(view)
    return out


def dump_outputs(st):
    return [
        dict(out, instanceId=instance_id, documentName=document)
        for (instance_id, document), queue in sorted(st["command_outputs"].items())
        for out in queue
    ]


# ------------------------------------------------------- service settings

# The settings the emulator knows, with the value AWS answers for a setting
# nobody changed (status `Default`). Any other id is `ServiceSettingNotFound`.
SERVICE_SETTING_DEFAULTS = {
    "/ssm/documents/console/public-sharing-permission": "Enable",
    "/ssm/automation/customer-script-log-destination": "",
    "/ssm/automation/customer-script-log-group-name": "",
}
SETTING_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[^:]*:[0-9]{12}:servicesetting(/.+)$")


def setting_path(body):
    setting_id = body.get("SettingId")
    if not isinstance(setting_id, str) or not setting_id:
        raise validation("SettingId is required")
    match = SETTING_ARN.match(setting_id)
    path = match.group(1) if match else setting_id
    if path not in SERVICE_SETTING_DEFAULTS:
        raise AwsError("ServiceSettingNotFound", f"ServiceSetting {setting_id} not found")
    return path


def service_setting_view(st, path, ctx):
    stored = st["service_settings"].get(path)
    value, status, modified = (
        (stored["value"], "Customized", stored["date"])
        if stored
        else (SERVICE_SETTING_DEFAULTS[path], "Default", None)
    )
    out = {
        "SettingId": path,
        "SettingValue": value,
        "ARN": f"arn:aws:ssm:{ctx['region']}:{ctx['account']}:servicesetting{path}",
        "Status": status,
    }
    if modified is not None:
        out["LastModifiedDate"] = modified
        out["LastModifiedUser"] = f"arn:aws:iam::{ctx['account']}:root"
    return out


def get_service_setting(st, body, ctx):
    return {"ServiceSetting": service_setting_view(st, setting_path(body), ctx)}


def update_service_setting(st, body, ctx):
    path = setting_path(body)
    value = body.get("SettingValue")
    if not isinstance(value, str):
        raise validation("SettingValue is required")
    if path.endswith("public-sharing-permission") and value not in ("Enable", "Disable"):
        raise validation("SettingValue must be Enable or Disable")
    if path.endswith("log-destination") and value not in ("CloudWatch", ""):
        raise validation("SettingValue must be CloudWatch or empty")
    st["service_settings"][path] = {"value": value, "date": now()}
    return {}


def reset_service_setting(st, body, ctx):
    path = setting_path(body)
    st["service_settings"].pop(path, None)
    return {"ServiceSetting": service_setting_view(st, path, ctx)}


HANDLERS = {
    "DescribeInstanceInformation": lambda st, body, _ctx: describe_instance_information(st, body),
    "DescribeInstancePatchStates": lambda st, body, _ctx: describe_instance_patch_states(st, body),
    "ListResourceComplianceSummaries": lambda st, body, _ctx: list_resource_compliance_summaries(
        st, body
    ),
    "GetInventory": lambda st, body, _ctx: get_inventory(st, body),
    "ListInventoryEntries": lambda st, body, _ctx: list_inventory_entries(st, body),
    "CreateAssociation": create_association,
    "DescribeAssociation": describe_association,
    "ListAssociations": list_associations,
    "UpdateAssociation": update_association,
    "DeleteAssociation": delete_association,
    "ListTagsForResource": list_tags_for_resource,
    "GetServiceSetting": get_service_setting,
    "UpdateServiceSetting": update_service_setting,
    "ResetServiceSetting": reset_service_setting,
    # moto has its own SendCommand family (every invocation `Success`, empty
    # output, no managed-instance check); these entries keep it unreachable.
    "SendCommand": send_command,
    "GetCommandInvocation": get_command_invocation,
    "ListCommandInvocations": list_command_invocations,
    "ListCommands": list_commands,
    "CancelCommand": cancel_command,
}


# ------------------------------------------------------------- seeding


def seed(kind, payload):
    st = scope(payload.get("account"), payload.get("region"))
    if kind == "managed-instances":
        for info in payload.get("instances") or []:
            check_instance_id(info.get("InstanceId"))
            st["instances"][info["InstanceId"]] = info
    elif kind == "patch-states":
        for state in payload.get("states") or []:
            check_instance_id(state.get("InstanceId"))
            st["patch_states"][state["InstanceId"]] = state
    elif kind == "compliance":
        for item in payload.get("items") or []:
            key = (item.get("ResourceId", ""), item.get("ComplianceType", ""))
            st["compliance"]["|".join(key)] = item
    elif kind == "inventory":
        instance_id = payload.get("instanceId")
        check_instance_id(instance_id)
        type_name = payload.get("typeName")
        check_type_name(type_name)
        st["inventory"].setdefault(instance_id, {})[type_name] = {
            "TypeName": type_name,
            "SchemaVersion": payload.get("schemaVersion", "1.0"),
            "CaptureTime": payload.get(
                "captureTime",
                datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ),
            "Content": payload.get("entries") or [],
        }
    elif kind == "command-outputs":
        seed_command_output(st, payload)
    elif kind == "recorded-responses":
        record_response(payload)
    elif kind == "reset":
        STATE.clear()
        RECORDED.clear()
    else:
        raise AwsError("NotFound", f"no emulator route `{kind}`")


def dump_state():
    out = []
    for (account, region), st in sorted(STATE.items()):
        out.append(
            {
                "account": account,
                "region": region,
                "managedInstances": list(st["instances"].values()),
                "patchStates": list(st["patch_states"].values()),
                "compliance": list(st["compliance"].values()),
                "inventory": st["inventory"],
                "associations": [
                    dict(public(a), Tags=a.get("_Tags", [])) for a in st["associations"].values()
                ],
                "commands": dump_commands(st),
                "commandOutputs": dump_outputs(st),
            }
        )
    return out


# ------------------------------------------------------ recorded responses

RECORDED = []


def record_response(payload):
    service = payload.get("service")
    if not isinstance(service, str) or not service:
        raise AwsError("ValidationException", "`service` (a SigV4 signing name) is required")
    operation, request = payload.get("operation"), payload.get("request")
    if bool(operation) == bool(request):
        raise AwsError("ValidationException", "give exactly one of `operation` and `request`")
    body = payload.get("body", "")
    if not isinstance(body, str):
        raise AwsError("ValidationException", "`body` is the response body as a string")
    request_body = payload.get("requestBody")
    headers = payload.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise AwsError("ValidationException", "`headers` maps header names to strings")
    RECORDED.append(
        {
            "service": service,
            "operation": operation,
            "request": re.compile(request) if request else None,
            "status": int(payload.get("status", 200)),
            "contentType": payload.get("contentType", "application/json"),
            "body": body.encode(),
            "headers": list(headers.items()),
            "region": payload.get("region") or None,
            "contains": payload.get("contains") or None,
            "requestBody": re.compile(request_body.encode()) if request_body else None,
        }
    )


SIGNING_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/")


def find_recording(environ, raw):
    """The latest recording matching this request, if any."""
    if not RECORDED:
        return None
    match = SIGNING_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None
    region, service = match.group(1), match.group(2)
    target = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    action = None
    if raw and b"Action=" in raw:
        action = (parse_qs(raw.decode("utf-8", "replace")).get("Action") or [None])[0]
    if not action:
        action = (parse_qs(environ.get("QUERY_STRING", "")).get("Action") or [None])[0]
    line = f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '')}"
    request_text = "\n".join(
        [
            unquote(environ.get("PATH_INFO", "")),
            unquote(environ.get("QUERY_STRING", "")),
            raw.decode("utf-8", "replace") if raw else "",
        ]
    )
    for rec in reversed(RECORDED):
        if rec["service"] != service:
            continue
        if rec["region"] and rec["region"] != region:
            continue
        if rec["contains"] and rec["contains"] not in request_text:
            continue
        if rec["requestBody"] is not None and not rec["requestBody"].search(raw or b""):
            continue
        if rec["operation"] and rec["operation"] in (target, action):
            return rec
        if rec["request"] is not None and rec["request"].fullmatch(line):
            return rec
    return None


# ------------------------------------------------------------ the WSGI part

ACCESS_KEY = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/")


def request_scope(environ):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = ACCESS_KEY.search(auth)
    access_key, region = (match.group(1), match.group(2)) if match else ("", DEFAULT_REGION)
    account = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
    if not account:
        try:
            from moto.iam.models import get_account_id_from

            account = get_account_id_from(access_key)
        except Exception:
            account = DEFAULT_ACCOUNT_ID
    return account, region


def respond(start_response, status, payload, content_type=JSON_1_1):
    body = json.dumps(payload).encode()
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )
    return [body]


def read_body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else b""
    return raw


class SsmEmulator:
    """WSGI middleware: the emulated SSM operations, then moto."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(ROUTE):
            return self.test_route(environ, start_response, path[len(ROUTE) :])
        if path.rstrip("/") == "/moto-api/reset":
            with LOCK:
                STATE.clear()
                RECORDED.clear()
            return self.app(environ, start_response)
        if RECORDED:
            raw = read_body(environ)
            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
            with LOCK:
                rec = find_recording(environ, raw)
            if rec is not None:
                start_response(
                    f"{rec['status']} {'OK' if rec['status'] < 400 else 'Error'}",
                    [
                        ("Content-Type", rec["contentType"]),
                        ("Content-Length", str(len(rec["body"]))),
                        ("x-amzn-RequestId", str(uuid.uuid4())),
                    ]
                    + rec["headers"],
                )
                return [rec["body"]]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        service, _, op = target.partition(".")
        if service == "AmazonSSM" and op in HANDLERS:
            return self.operation(environ, start_response, op)
        return self.app(environ, start_response)

    def operation(self, environ, start_response, op):
        raw = read_body(environ)
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return respond(
                start_response,
                "400 Bad Request",
                {"__type": "SerializationException", "Message": "request body is not JSON"},
            )
        account, region = request_scope(environ)
        ctx = {"account": account, "region": region}
        try:
            with LOCK:
                out = HANDLERS[op](scope(account, region), body, ctx)
                if out is PASS_TO_MOTO:
                    environ["wsgi.input"] = io.BytesIO(raw)
                    environ["CONTENT_LENGTH"] = str(len(raw))
                    return self.app(environ, start_response)
                # Detach from the state so later updates do not leak in.
                out = json.loads(json.dumps(out))
        except AwsError as e:
            return respond(start_response, "400 Bad Request", {"__type": e.code, "Message": e.message})
        return respond(start_response, "200 OK", out)

    def test_route(self, environ, start_response, kind):
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET" and kind == "state":
            with LOCK:
                return respond(start_response, "200 OK", dump_state(), "application/json")
        if method != "POST":
            return respond(start_response, "405 Method Not Allowed", {"error": "use POST"}, "application/json")
        try:
            payload = json.loads(read_body(environ) or b"{}")
            with LOCK:
                seed(kind, payload)
        except AwsError as e:
            status = "404 Not Found" if e.code == "NotFound" else "400 Bad Request"
            return respond(start_response, status, {"error": e.message}, "application/json")
        except (ValueError, AttributeError, TypeError) as e:
            return respond(start_response, "400 Bad Request", {"error": str(e)}, "application/json")
        return respond(start_response, "200 OK", {"ok": True}, "application/json")


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)
    import os
    import signal

    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, moto_server.signal_handler)
    signal.signal(signal.SIGINT, moto_server.signal_handler)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        SsmEmulator(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    sys.exit(main())
