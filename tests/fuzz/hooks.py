"""Schemathesis hooks for tests/fuzz/run.sh (named in the generated schemathesis.toml).

Two kinds. Generation aids, which only add inputs (Schemathesis still generates its own):

- Bodies: most request bodies are documented as a free-form `{"type": "object"}`, so generated
  bodies are random objects the service rejects at once. For each operation with seeds (valid
  bodies from fixtures.py, in $FUZZ_SEEDS) about half the generated bodies are instead a seed
  with a few of its values replaced by awkward ones (NUL characters, huge or tiny numbers,
  wrong types, long strings, odd dates, extra keys), which reach the handlers' real work.
- CSV imports: most `text/csv` bodies of `POST .../importCSV` (random text from the schema
  openapi_check.py adds) are replaced by random CSV documents with the columns the service reads.

Guards, which keep the run safe and its fixture alive (every operation is still fuzzed):

- DELETEs aimed at a fixture that the seeds rely on (by id, code, name or source id) go to its
  twin, an object of the same kind made only to be deleted ($FUZZ_TWINS, from fixtures.py), so
  the first such DELETE still deletes something and the seeds stay valid for the whole run.

- PUT/DELETE /management/v1/projects/{projectId} aimed at the fuzzed project (whose keys every
  request carries) go to a decoy project instead. Schemathesis reuses ids it saw in responses
  (GET /management/v1/projects lists the fuzzed project), and deleting that project, or changing
  its client_trusted_domains, would turn every later /v1 and /client/v1 request into a 401/403.
- Code generation counts (`vouchers_count` of POST /v1/campaigns and of POST
  /v1/campaigns/{id}/vouchers) between 2,001 and the allowed 10,000,000 become 2,000 (still
  asynchronous: more than 1,000). Millions of codes are a load test, not a fuzz input: they kept
  the database busy for the rest of the run, and a generation holds its campaign's row while it
  writes a batch, so the run's length and its lock-timeout 503s depended on the machine's speed.
  Counts above the maximum (which must be refused) and all smaller ones are sent as generated.
- Webhook endpoint URLs (POST/PUT .../webhooks) that could be absolute URLs are pointed at a
  closed loopback port: the service delivers events to them, and this machine must send no
  traffic beyond loopback. Strings without a ':' are left alone (the service must refuse them).
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import threading
from urllib.parse import urlsplit

import schemathesis
from hypothesis import strategies as st
from schemathesis.core import NotSet

PROJECT_HEX = os.environ["FUZZ_PROJECT_HEX"].lower()
DECOY_PROJECT_ID = os.environ["FUZZ_DECOY_PROJECT_ID"]
WEBHOOK_SINK = os.environ.get("FUZZ_WEBHOOK_SINK", "http://127.0.0.1:9/fuzz-webhook")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
SEEDS: dict[str, list] = {}
if os.environ.get("FUZZ_SEEDS"):
    with open(os.environ["FUZZ_SEEDS"], encoding="utf-8") as f:
        SEEDS = json.load(f)
TWINS: dict[str, str] = {}
if os.environ.get("FUZZ_TWINS"):
    with open(os.environ["FUZZ_TWINS"], encoding="utf-8") as f:
        TWINS = {k.lower(): v for k, v in json.load(f).items()}

# ---------------------------------------------------------------------------------------------
# Awkward values and seed mutation

AWKWARD_STRINGS = [
    "", " ", "\x00", "a\x00b", "\u0000\u0000", "\ud800", "\uffff", "\U0001F600" * 50, "x" * 5000, "%00", "'\"\\",
    "null", "-1", "1e400", "NaN", "2026-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "2026-01-01T00:00:00+14:00", "not a date", "$is", "../..", "\r\n", "EUR", "Europe/Warsaw", "*",
]
AWKWARD_NUMBERS = [
    0, -1, 1, 2**31, 2**31 - 1, -(2**31), 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, 10**400,
    0.5, -0.0, 1e308, -1e308, 1.7976931348623157e308, 5e-324, 1e-30, 123456789.123456789, 1e15 + 0.3,
]
AWKWARD = st.one_of(
    st.sampled_from(AWKWARD_STRINGS),
    st.sampled_from(AWKWARD_NUMBERS),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=10).map(lambda s: s + "\x00"),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.sampled_from([[], {}, [None], [{}], {"": None}, [[[]]]]),
    st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.floats(allow_nan=False, allow_infinity=False), st.integers()), max_size=3),
)


def _paths(value, prefix=()):
    """Every location inside a JSON value, the root excluded."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


def _fill(value, unique: str):
    if isinstance(value, str):
        return value.replace("{u}", unique)
    if isinstance(value, dict):
        return {k: _fill(v, unique) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, unique) for v in value]
    return value


def _parent(root, path):
    node = root
    for part in path[:-1]:
        node = node[part]
    return node


def _awkward(draw):
    # A copy: sampled containers are shared objects, and a later mutation could put one inside
    # itself (a cycle that no serializer survives).
    return copy.deepcopy(draw(AWKWARD))


@st.composite
def mutated_seed(draw, seeds):
    body = _fill(draw(st.sampled_from(seeds)), draw(st.uuids()).hex[:12])
    for _ in range(draw(st.integers(0, 3))):
        paths = list(_paths(body))
        kind = draw(st.sampled_from(["replace", "replace", "replace", "add", "delete"]))
        if kind == "replace" and paths:
            path = draw(st.sampled_from(paths))
            _parent(body, path)[path[-1]] = _awkward(draw)
        elif kind == "delete" and paths:
            path = draw(st.sampled_from(paths))
            del _parent(body, path)[path[-1]]
        else:
            containers = [p for p in paths if isinstance(_parent(body, p)[p[-1]], dict)]
            target = body
            if containers and draw(st.booleans()):
                path = draw(st.sampled_from(containers))
                target = _parent(body, path)[path[-1]]
            if isinstance(target, dict):
                target[draw(st.sampled_from(["metadata", "x", "", "\x00", "id", "object"]))] = _awkward(draw)
    return body


@schemathesis.hook
def before_generate_body(context, strategy):
    operation = context.operation
    seeds = SEEDS.get(f"{operation.method.upper()} {operation.path}") if operation is not None else None
    if not seeds:
        return strategy
    return st.one_of(strategy, mutated_seed(seeds))


# ---------------------------------------------------------------------------------------------
# CSV bodies for the importCSV operations

_csv_rng = random.Random(int(os.environ.get("FUZZ_SEED", "0")))
_csv_lock = threading.Lock()
CSV_COLUMNS = ["code", "Code", "redemption_limit", "Redemption Limit", "quantity", "active", "start_date",
               "expiration_date", "additional_info", "discount_type", "Discount Type", "value", "amount_limit",
               "effect", "region", "metadata", ""]
CSV_VALUES = ["CSV-{n}", "csv {n}", "", "1", "0", "-5", "2", "true", "false", "PERCENT", "AMOUNT", "FIXED", "UNIT",
              "15", "500", "1e308", "99999999999999999999", "0.5", "2026-01-01T00:00:00Z", "2026-13-01", "\x00",
              "a\x00b", '"quoted, comma"', '"unterminated', "ü", "APPLY_TO_ORDER", "x" * 300, "\t"]


def _random_csv() -> str:
    with _csv_lock:
        rng = random.Random(_csv_rng.random())
    columns = ["code", "discount_type", "value"] if rng.random() < 0.6 else []
    columns += rng.sample(CSV_COLUMNS, rng.randint(0, 5))
    rows = [",".join(columns)]
    for n in range(rng.randint(0, 6)):
        cells = []
        for column in columns:
            if column.lower() == "code" and rng.random() < 0.7:
                cells.append(f"CSV-{rng.randrange(10**9)}-{n}")
            elif column == "discount_type" and rng.random() < 0.7:
                cells.append(rng.choice(["PERCENT", "AMOUNT"]))
            elif column == "value" and rng.random() < 0.7:
                cells.append(str(rng.randint(1, 100)))
            else:
                cells.append(rng.choice(CSV_VALUES).replace("{n}", str(n)))
        if rng.random() < 0.1:
            cells.append("extra")
        rows.append(",".join(cells))
    return rng.choice(["\n", "\r\n"]).join(rows) + rng.choice(["", "\n"])


# ---------------------------------------------------------------------------------------------
# Guards and the CSV body, applied to every request just before it is sent


def _is_fuzzed_project(value: object) -> bool:
    if not isinstance(value, str):
        return False
    # Over-matching is harmless (the request goes to the decoy): any spelling that a UUID parser
    # might read as the fuzzed project's id counts.
    return re.sub(r"[^0-9a-f]", "", value.lower().removeprefix("proj_")) == PROJECT_HEX


def _is_loopback_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK_HOSTS and "@" not in parts.netloc
    except ValueError:
        return False


MAX_CODES_PER_REQUEST = 2000
MAX_ASYNC_CODES = 10_000_000


def _clamped_count(value):
    try:
        number = int(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is not None and MAX_CODES_PER_REQUEST < number <= MAX_ASYNC_CODES:
        return MAX_CODES_PER_REQUEST if isinstance(value, int) else str(MAX_CODES_PER_REQUEST)
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    method = case.method.upper()
    if method == "POST" and path == "/v1/campaigns" and isinstance(case.body, dict) and "vouchers_count" in case.body:
        case.body["vouchers_count"] = _clamped_count(case.body["vouchers_count"])
    if method == "POST" and path == "/v1/campaigns/{campaignId}/vouchers" and case.query and "vouchers_count" in case.query:
        case.query["vouchers_count"] = _clamped_count(case.query["vouchers_count"])
    if path == "/management/v1/projects/{projectId}" and method in ("PUT", "DELETE"):
        params = case.path_parameters or {}
        if _is_fuzzed_project(params.get("projectId")):
            params["projectId"] = DECOY_PROJECT_ID
    if path.startswith("/management/v1/projects/{projectId}/webhooks") and method in ("POST", "PUT"):
        body = case.body
        if isinstance(body, dict) and isinstance(body.get("url"), str):
            url = body["url"]
            if ":" in url and not _is_loopback_url(url):
                body["url"] = WEBHOOK_SINK
    if method == "DELETE" and case.path_parameters and not path.endswith("/sessions/{sessionKey}"):
        for name, value in list(case.path_parameters.items()):
            if isinstance(value, str) and value.lower() in TWINS:
                case.path_parameters[name] = TWINS[value.lower()]
    if path.endswith("/importCSV") and (isinstance(case.body, NotSet) or case.media_type == "text/csv"):
        with _csv_lock:
            inject = _csv_rng.random() < 0.7
        if inject:
            case.body = _random_csv()
            case.media_type = "text/csv"
