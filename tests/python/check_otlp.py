"""Parses OTLP/HTTP JSON bodies with the OpenTelemetry project's own protobuf definitions
(opentelemetry-proto) and protobuf's JSON mapping: an implementation independent of ours.

usage: check_otlp.py BODY_FILE...   (each file: one ExportLogsServiceRequest as JSON)
prints: {"records": N, "event_ids": [...], "service_names": [...], "problems": [...]}
"""
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

REQUIRED = ["event.id", "event.name", "merchant.id", "session.id", "event.seq"]


def main(paths):
    out = {"records": 0, "event_ids": [], "service_names": [], "problems": []}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        request = ExportLogsServiceRequest()
        # Unknown fields are errors: our JSON must use exactly the proto's field names.
        json_format.Parse(text, request, ignore_unknown_fields=False)
        for resource_logs in request.resource_logs:
            for attr in resource_logs.resource.attributes:
                if attr.key == "service.name":
                    out["service_names"].append(attr.value.string_value)
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    out["records"] += 1
                    attrs = {a.key: a.value for a in record.attributes}
                    missing = [k for k in REQUIRED if k not in attrs]
                    if missing:
                        out["problems"].append(f"record without {missing}")
                    if record.time_unix_nano == 0 or record.observed_time_unix_nano == 0:
                        out["problems"].append("record without times")
                    if record.severity_number == 0 or not record.event_name:
                        out["problems"].append("record without severity or event name")
                    if attrs["event.seq"].WhichOneof("value") != "int_value":
                        out["problems"].append("event.seq is not an int")
                    out["event_ids"].append(attrs["event.id"].string_value)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
