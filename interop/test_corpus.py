"""The whole case corpus over gRPC from a foreign client.

Every case of tests/cases/<policy>.json (the same files `cargo test` runs
in-process) is sent by a grpcio client generated from proto/ to the release
binary; the answer must carry the case's decision, refund amount and reason
codes (and, where the case states them, the refund method, missing
information, consequences and error field paths); every quote case must
carry its refundable amount, basis, unused fraction and schedule.

    python interop/test_corpus.py --binary target/release/refund-eligibility

Exits non-zero when any case fails; the last line reads
"corpus over grpcio: N passed, M failed".
"""

import argparse
import glob
import json
import os
import sys
import tempfile

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

import test_interop as base

ROOT = base.ROOT


def merge(b, o):
    """Deep merge as tests/support/mod.rs does it: objects key by key, null removes."""
    if o is None:
        return b
    if isinstance(b, dict) and isinstance(o, dict):
        out = dict(b)
        for k, v in o.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = merge(out[k], v) if k in out else v
        return out
    return o


def strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def enum_name(enum, value, prefix):
    return strip(enum.Name(value), prefix)


def seconds(ts):
    return None if ts is None else (ts.seconds, ts.nanos)


def parse_ts(text):
    return seconds(base.ts(text))


def check_evaluate(pb, stub, policy_id, defaults, case):
    request = merge(defaults, case.get("request"))
    request.setdefault("policy_id", policy_id)
    msg = json_format.ParseDict(request, pb.EvaluateClaimRequest())
    want = case["expect"]
    errors = []
    try:
        resp = stub.EvaluateClaim(msg, timeout=10)
    except grpc.RpcError as e:
        if "error" not in want:
            return [f"unexpected error {e.code()}: {e.details()}"]
        if e.code().name != want["error"]["code"]:
            errors.append(f"code: expected {want['error']['code']}, got {e.code().name}")
        fields = set()
        status = rpc_status.from_call(e)
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    fields |= {v.field for v in bad.field_violations}
        if fields != set(want["error"].get("fields", [])):
            errors.append(f"fields: expected {sorted(want['error'].get('fields', []))}, got {sorted(fields)}")
        return errors
    if "error" in want:
        return [f"expected error {want['error']['code']}, got a decision"]
    decision = enum_name(pb.Decision, resp.decision, "DECISION_")
    if decision != want["decision"]:
        errors.append(f"decision: expected {want['decision']}, got {decision}")
    if resp.refund_amount.amount != want["refund_amount"]:
        errors.append(f"refund_amount: expected {want['refund_amount']}, got {resp.refund_amount.amount}")
    codes = [r.code for r in resp.reasons]
    if codes != want["reasons"]:
        errors.append(f"reasons: expected {want['reasons']}, got {codes}")
    if "refund_method" in want:
        method = enum_name(pb.RefundMethod, resp.refund_method, "REFUND_METHOD_")
        if method != want["refund_method"]:
            errors.append(f"refund_method: expected {want['refund_method']}, got {method}")
    if "missing_information" in want and list(resp.missing_information) != want["missing_information"]:
        errors.append(f"missing_information: expected {want['missing_information']}, got {list(resp.missing_information)}")
    if "consequences" in want:
        got = [enum_name(pb.Consequence, c, "CONSEQUENCE_") for c in resp.consequences]
        if got != want["consequences"]:
            errors.append(f"consequences: expected {want['consequences']}, got {got}")
    for field in ("resubmit_after", "claim_deadline"):
        if field in want:
            got = seconds(getattr(resp, field)) if resp.HasField(field) else None
            expected = None if want[field] is None else parse_ts(want[field])
            if got != expected:
                errors.append(f"{field}: expected {want[field]}, got {got}")
    if any(not r.clause or not r.message for r in resp.reasons):
        errors.append("a reason lacks its clause or message")
    return errors


def check_quote(pb, stub, policy_id, quote_base, case):
    request = merge(quote_base, case.get("request"))
    request.setdefault("policy_id", policy_id)
    if "as_of" not in request:
        return None
    msg = json_format.ParseDict(request, pb.QuoteRefundRequest())
    want = case["expect"]
    errors = []
    try:
        resp = stub.QuoteRefund(msg, timeout=10)
    except grpc.RpcError as e:
        return [f"unexpected error {e.code()}: {e.details()}"]
    if resp.refundable_now.amount != want["refundable_now"]:
        errors.append(f"refundable_now: expected {want['refundable_now']}, got {resp.refundable_now.amount}")
    basis = enum_name(pb.RefundBasis, resp.basis, "REFUND_BASIS_")
    if basis != want["basis"]:
        errors.append(f"basis: expected {want['basis']}, got {basis}")
    if "unused_fraction" in want and resp.unused_fraction != want["unused_fraction"]:
        errors.append(f"unused_fraction: expected {want['unused_fraction']}, got {resp.unused_fraction}")
    if "reasons" in want and [r.code for r in resp.reasons] != want["reasons"]:
        errors.append(f"reasons: expected {want['reasons']}, got {[r.code for r in resp.reasons]}")
    if "schedule" in want:
        got = [
            (
                seconds(w.starts_at),
                seconds(w.ends_at) if w.HasField("ends_at") else None,
                enum_name(pb.RefundBasis, w.basis, "REFUND_BASIS_"),
                w.amount_at_start.amount,
                w.reason.code,
            )
            for w in resp.schedule
        ]
        expected = [
            (
                parse_ts(w["starts_at"]),
                None if w["ends_at"] is None else parse_ts(w["ends_at"]),
                w["basis"],
                w["amount_at_start"],
                w["reason"],
            )
            for w in want["schedule"]
        ]
        if got != expected:
            errors.append(f"schedule: expected {expected}, got {got}")
    return errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        base.generate_client(out)
        pb, pb_grpc = base.pb, base.pb_grpc
        proc = base.start_binary(args.binary)
        passed, failed, skipped = 0, 0, 0
        try:
            channel = grpc.insecure_channel(base.ADDRESS)
            stub = pb_grpc.EligibilityServiceStub(channel)
            for path in sorted(glob.glob(os.path.join(ROOT, "tests", "cases", "*.json"))):
                with open(path, encoding="utf-8") as f:
                    corpus = json.load(f)
                policy_id = corpus["policy_id"]
                defaults = corpus.get("defaults", {})
                file_passed = 0
                for case in corpus["cases"]:
                    errors = check_evaluate(pb, stub, policy_id, defaults, case)
                    if errors:
                        failed += 1
                        print(f"FAIL {policy_id}: {case['name']}\n    " + "\n    ".join(errors))
                    else:
                        passed += 1
                        file_passed += 1
                quote_base = merge({"purchase": defaults.get("purchase")}, corpus.get("quote_defaults"))
                for case in corpus.get("quotes", []):
                    errors = check_quote(pb, stub, policy_id, quote_base, case)
                    if errors is None:
                        skipped += 1
                    elif errors:
                        failed += 1
                        print(f"FAIL {policy_id} quote: {case['name']}\n    " + "\n    ".join(errors))
                    else:
                        passed += 1
                        file_passed += 1
                print(f"{policy_id}: {file_passed} cases passed over grpcio")
            channel.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if skipped:
        print(f"{skipped} quote cases without as_of skipped (they depend on the server clock)")
    print(f"corpus over grpcio: {passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
