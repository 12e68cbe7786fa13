"""Prints a compact summary of a tests/fuzz/run.sh run and decides its exit status.

usage: summarize.py OUT_DIR SCHEMATHESIS_EXIT_STATUS ELAPSED_SECONDS SERVER_ALIVE(0|1)

Reads OUT_DIR/events.ndjson (every test case, check, request and response of the run),
report.json, openapi-issues.txt and server.log (JSON lines: the cause of each 5xx, by request
id). Writes OUT_DIR/failures.md (each distinct failure, deduplicated by operation and check,
with one reproducing curl command per distinct logged cause, the shortest seen) and
OUT_DIR/summary.txt. Exits 1 when a check failed, Schemathesis reported an error, the document
has problems, the service died or Schemathesis itself failed; else 0.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import sys

OUT, ST_STATUS, ELAPSED, ALIVE = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
PLACEHOLDERS = {
    "X-App-Id": "$APP_ID", "X-App-Token": "$APP_TOKEN", "X-Client-Application-Id": "$CLIENT_ID",
    "X-Client-Token": "$CLIENT_TOKEN", "X-Management-Id": "$MGMT_ID", "X-Management-Token": "$MGMT_TOKEN",
}
SKIPPED_HEADERS = {"content-length", "user-agent", "accept", "accept-encoding", "connection"}


def decode(content) -> str:
    if content is None:
        return ""
    if isinstance(content, dict) and "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", errors="backslashreplace")
    return content if isinstance(content, str) else json.dumps(content)


def quote_curl(request: dict) -> str:
    parts = ["curl -sS -X " + request["method"]]
    for name, values in request.get("headers", {}).items():
        if name.lower() in SKIPPED_HEADERS or name.lower().startswith("x-schemathesis"):
            continue
        value = values[0] if isinstance(values, list) else values
        parts.append(f'-H "{name}: {PLACEHOLDERS[name]}"' if name in PLACEHOLDERS else "-H " + shlex.quote(f"{name}: {value}"))
    body = decode(request["body"]) if request.get("body") is not None else None
    if body is not None and any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in body):
        # NUL and other control characters cannot travel in a shell argument: printf writes them.
        escaped = "".join(
            "\\\\" if c == "\\" else "%%" if c == "%" else f"\\{ord(c):03o}" if ord(c) < 32 or ord(c) == 127 else c
            for c in body)
        parts.append("--data-binary @-")
        parts.append(shlex.quote(request["uri"]))
        return "printf " + shlex.quote(escaped) + " | " + " ".join(parts)
    if body is not None:
        parts.append("--data-binary " + shlex.quote(body))
    parts.append(shlex.quote(request["uri"]))
    return " ".join(parts)


def read_server_log(path: str) -> tuple[dict[str, str], dict[str, int]]:
    """The cause logged for each failed request (by request id), and the other warnings and errors."""
    causes: dict[str, str] = {}
    other: dict[str, int] = {}
    if not os.path.exists(path):
        return causes, other
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            level, fields = entry.get("level"), entry.get("fields") or {}
            message = fields.get("message", "")
            if message == "request failed" and fields.get("request_id"):
                chain = (fields.get("chain") or fields.get("error") or "").removeprefix("Some(").removesuffix(")")
                try:
                    parts = json.loads(chain)
                    cause = parts[-1] if isinstance(parts, list) and parts else chain
                except ValueError:
                    cause = chain
                causes[fields["request_id"]] = str(cause)
            elif level in ("WARN", "ERROR") and message != "response failed" and "slow statement" not in message:
                text = f"{level} {entry.get('target', '')}: {message} " + " ".join(
                    f"{k}={v}" for k, v in fields.items() if k != "message")
                key = re.sub(r"\d+", "N", text)[:300]
                other[key] = other.get(key, 0) + 1
    return causes, other


def cause_of(failure: dict, response: dict, causes: dict[str, str]) -> str:
    """What groups failures: the logged cause of a 5xx, else the check's message."""
    try:
        rid = json.loads(decode(response.get("content"))).get("request_id")
    except (ValueError, AttributeError):
        rid = None
    if rid and causes.get(rid) not in (None, "", "None"):
        return re.sub(r"(line|column) \d+", r"\1 N", causes[rid])
    try:
        body = json.loads(decode(response.get("content")))
        if str(response.get("status_code", "")).startswith("5") and body.get("key"):
            return f"{body['key']}: {body.get('details') or body.get('message') or ''}"
    except (ValueError, AttributeError):
        pass
    message = (failure.get("message") or failure.get("title") or "").strip()
    return re.sub(r"\s+", " ", message)[:200]


def main() -> None:
    samples: dict[tuple[str, str], list[tuple[dict, dict]]] = {}
    errors: list[str] = []
    operations: set[str] = set()
    requests_sent = cases = 0
    events_path = os.path.join(OUT, "events.ndjson")
    if os.path.exists(events_path):
        with open(events_path, encoding="utf-8") as f:
            for line in f:
                try:
                    event = json.loads(line)
                except ValueError:
                    errors.append("events.ndjson: an unreadable line (the report writer failed)")
                    continue
                if "ScenarioFinished" in event:
                    recorder = event["ScenarioFinished"].get("recorder") or {}
                    label = recorder.get("label", "?")
                    interactions = recorder.get("interactions") or {}
                    requests_sent += len(interactions)
                    cases += len(recorder.get("cases") or {})
                    if " /" in label and "->" not in label:
                        operations.add(label)
                    for case_id, checks in (recorder.get("checks") or {}).items():
                        for check in checks:
                            if check.get("status") != "failure":
                                continue
                            failure = (check.get("failure_info") or {}).get("failure") or {}
                            key = (failure.get("operation") or label, check["name"])
                            samples.setdefault(key, []).append((failure, interactions.get(case_id) or {}))
                elif "NonFatalError" in event or "FatalError" in event:
                    error = event.get("NonFatalError") or event.get("FatalError")
                    value = error.get("value") or error.get("info") or {}
                    what = " ".join(str(value.get(k) or "") for k in ("type", "title", "message")).strip()
                    errors.append(f"{error.get('label') or 'run'}: {what or json.dumps(error)[:300]}")

    report = {}
    if os.path.exists(os.path.join(OUT, "report.json")):
        with open(os.path.join(OUT, "report.json"), encoding="utf-8") as f:
            report = json.load(f)
    issues = []
    if os.path.exists(os.path.join(OUT, "openapi-issues.txt")):
        with open(os.path.join(OUT, "openapi-issues.txt"), encoding="utf-8") as f:
            issues = [line.rstrip("\n") for line in f if line.strip()]
    causes, background = read_server_log(os.path.join(OUT, "server.log"))

    # Per (operation, check): the failing cases grouped by cause, each with its shortest request.
    failures: dict[tuple[str, str], dict[str, dict]] = {}
    for key, entries in samples.items():
        groups = failures.setdefault(key, {})
        for failure, interaction in entries:
            response = interaction.get("response") or {}
            group = groups.setdefault(cause_of(failure, response, causes), {"count": 0, "best": None})
            group["count"] += 1
            request = interaction.get("request")
            size = len(quote_curl(request)) if request else 10**9
            if group["best"] is None or size < group["best"][0]:
                group["best"] = (size, failure, interaction)

    def status_of(groups: dict[str, dict]) -> str:
        statuses = sorted({str((g["best"][2].get("response") or {}).get("status_code", "?")) for g in groups.values()})
        return "/".join(statuses)

    # A 5xx fails status_code_conformance too (5xx are undocumented): shown as one failure.
    shadowed = {key for key in failures if key[1] == "status_code_conformance" and status_of(failures[key]).startswith("5")
                and (key[0], "not_a_server_error") in failures}

    with open(os.path.join(OUT, "failures.md"), "w", encoding="utf-8") as f:
        f.write("# Fuzz failures\n\nDeduplicated by operation and check, then by the cause the service logged (else "
                "the check's message); the shortest failing request of each. $APP_ID etc. stand for the keys.\n\n")
        for (operation, check), groups in sorted(failures.items()):
            if (operation, check) in shadowed:
                continue
            also = " + status_code_conformance" if (operation, "status_code_conformance") in shadowed else ""
            total = sum(g["count"] for g in groups.values())
            f.write(f"## {operation} — {check}{also} ({total} failing cases)\n\n")
            for cause, group in groups.items():
                _, failure, interaction = group["best"]
                response = interaction.get("response") or {}
                f.write(f"### {cause or failure.get('title', '')} ({group['count']} cases)\n\n")
                f.write(f"- failure: {failure.get('code', '')} {failure.get('title', '')}\n")
                if failure.get("message"):
                    f.write("- detail: " + failure["message"].replace("\n", " | ")[:1500] + "\n")
                f.write(f"- status: {response.get('status_code', '?')}\n")
                f.write("- response: `" + decode(response.get("content"))[:600].replace("`", "'") + "`\n")
                if interaction.get("request"):
                    f.write("\n```sh\n" + quote_curl(interaction["request"]) + "\n```\n\n")

    failed_operations = {operation for operation, _ in failures}
    operations |= failed_operations
    tested, failed = len(operations), len(failed_operations)
    lines = [f"fuzz: {report.get('operations', {}).get('tested', tested)} operations tested, {cases} test cases, "
             f"{requests_sent} requests in {ELAPSED} s (seed {report.get('seed', '?')})"]
    if issues:
        lines.append(f"OpenAPI document: {len(issues)} problem(s) (target/fuzz/openapi-issues.txt), e.g.:")
        lines += ["  " + (i if len(i) < 200 else i[:197] + "...") for i in issues[:2]]
    if failures:
        shown = sorted(key for key in failures if key not in shadowed)
        lines.append(f"{len(shown)} distinct failures in {failed} operations (target/fuzz/failures.md: a curl for each):")
        for operation, check in shown:
            groups = failures[(operation, check)]
            also = "+status_code_conformance" if (operation, "status_code_conformance") in shadowed else ""
            total = sum(g["count"] for g in groups.values())
            lines.append(f"  {status_of(groups):>3}  {operation}  {check}{also} x{total}")
            for cause, group in groups.items():
                lines.append(f"         - {cause[:150]} (x{group['count']})")
    if errors:
        lines.append(f"{len(errors)} Schemathesis errors (target/fuzz/schemathesis.txt):")
        lines += ["  " + e[:200] for e in errors[:10]]
    if background:
        lines.append(f"server log: {len(background)} other kinds of warning or error (informational):")
        for text, count in sorted(background.items(), key=lambda item: -item[1])[:8]:
            lines.append(f"  x{count} {text[:230]}")
    st_output = os.path.join(OUT, "schemathesis.txt")
    if os.path.exists(st_output):
        with open(st_output, encoding="utf-8", errors="replace") as f:
            if "\nInternal Error\n" in f.read():
                lines.append("Schemathesis itself crashed (Internal Error at the end of target/fuzz/schemathesis.txt)")
    if not ALIVE:
        lines.append("the service died during the run (target/fuzz/server.log)")
    if ST_STATUS not in (0, 1):
        lines.append(f"schemathesis exited with status {ST_STATUS}" + (" (time limit)" if ST_STATUS in (124, 137) else ""))
    if ST_STATUS == 1 and not failures and not errors:
        lines.append("schemathesis reported a failure this summary could not itemise: see target/fuzz/schemathesis.txt")
    lines.append(f"fuzz: {tested - failed} passed, {failed} failed")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(OUT, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    sys.exit(1 if failures or errors or issues or not ALIVE or ST_STATUS != 0 else 0)


if __name__ == "__main__":
    main()
