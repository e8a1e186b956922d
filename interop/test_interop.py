"""Interoperability: the service called by a client of another gRPC
implementation (grpcio, the C-core based Python client).

Generates the client from proto/ with grpcio-tools at run time into a
temporary directory, starts the release binary on a free 127.0.0.1 port and
calls every RPC, health (Check and Watch), server reflection (v1alpha and
v1) and a bad request whose google.rpc.BadRequest detail it decodes with
grpcio-status.

    python interop/test_interop.py --binary target/release/refund-eligibility

Exits non-zero when any test fails; the last line reads "interop: N passed, M failed".
"""

import argparse
import datetime
import importlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import grpc
import grpc_tools
from grpc_tools import protoc
from google.protobuf import descriptor_pb2
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO_DIR = os.path.join(ROOT, "proto")
PROTO_FILE = "refund/eligibility/v1/eligibility.proto"
SERVICE = "refund.eligibility.v1.EligibilityService"

def corpus_policies():
    """The policy ids of tests/cases/<id>.json: every compiled-in policy has
    its corpus there (cargo test checks it against the registry), so this is
    the registry's list without a copy of it."""
    import json

    ids = set()
    cases = os.path.join(ROOT, "tests", "cases")
    for name in os.listdir(cases):
        if name.endswith(".json"):
            with open(os.path.join(cases, name), encoding="utf-8") as f:
                if json.load(f)["policy_id"] == name[: -len(".json")]:
                    ids.add(name[: -len(".json")])
    return ids


pb = None  # the generated eligibility_pb2 module
pb_grpc = None  # and its _grpc stubs
ADDRESS = None  # "127.0.0.1:<port>" of the running binary


def generate_client(out_dir):
    """Compiles proto/ into Python modules under out_dir and imports them."""
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{include}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            PROTO_FILE,
        ]
    )
    if code != 0:
        raise RuntimeError(f"grpc_tools.protoc failed with {code}")
    sys.path.insert(0, out_dir)
    global pb, pb_grpc
    pb = importlib.import_module("refund.eligibility.v1.eligibility_pb2")
    pb_grpc = importlib.import_module("refund.eligibility.v1.eligibility_pb2_grpc")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_binary(binary):
    """Starts the binary on a free port (retrying on a port clash) and waits until it serves."""
    global ADDRESS
    for _ in range(5):
        address = f"127.0.0.1:{free_port()}"
        proc = subprocess.Popen(
            [binary, "--listen", address, "--metrics-listen", "off"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        channel = grpc.insecure_channel(address)
        try:
            grpc.channel_ready_future(channel).result(timeout=30)
            ADDRESS = address
            return proc
        except grpc.FutureTimeoutError:
            proc.kill()
            proc.wait()
        finally:
            channel.close()
    raise RuntimeError("the binary did not start serving")


def ts(text):
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")))
    return t


def purchase(**overrides):
    p = pb.Purchase(
        order_id="SP-1001",
        amount_paid=pb.Money(currency_code="EUR", amount="29.99"),
        purchased_at=ts("2026-01-05T10:00:00Z"),
        delivered_at=ts("2026-01-05T10:05:00Z"),
        term_months=1,
        payment_method=pb.PAYMENT_METHOD_CARD,
        customer_country="US",
    )
    for k, v in overrides.items():
        if isinstance(v, pb.Money):
            getattr(p, k).CopyFrom(v)
        else:
            setattr(p, k, v)
    return p


class Interop(unittest.TestCase):
    def setUp(self):
        self.channel = grpc.insecure_channel(ADDRESS)
        self.stub = pb_grpc.EligibilityServiceStub(self.channel)

    def tearDown(self):
        self.channel.close()

    def test_evaluate_claim_iptv_smarters_pro(self):
        resp = self.stub.EvaluateClaim(
            pb.EvaluateClaimRequest(
                policy_id="iptv-smarters-pro",
                purchase=purchase(),
                claim=pb.Claim(reason=pb.CLAIM_REASON_NOT_AS_DESCRIBED, description="missing features"),
                evaluated_at=ts("2026-01-06T10:00:00Z"),
                request_id="py-1",
            ),
            timeout=10,
        )
        self.assertEqual(resp.decision, pb.DECISION_APPROVED)
        self.assertEqual((resp.refund_amount.currency_code, resp.refund_amount.amount), ("EUR", "29.99"))
        self.assertEqual(resp.refund_method, pb.REFUND_METHOD_ORIGINAL_PAYMENT)
        self.assertEqual([r.code for r in resp.reasons], ["WITHIN_48_HOURS"])
        self.assertEqual(resp.reasons[0].clause, "Refund Conditions #3")
        self.assertEqual(resp.request_id, "py-1")
        self.assertEqual(resp.policy.id, "iptv-smarters-pro")

    def test_evaluate_claim_prorated(self):
        resp = self.stub.EvaluateClaim(
            pb.EvaluateClaimRequest(
                policy_id="iptv-smarters-pro",
                purchase=purchase(),
                claim=pb.Claim(reason=pb.CLAIM_REASON_NOT_AS_DESCRIBED, description="missing features"),
                evaluated_at=ts("2026-01-20T10:05:00Z"),
            ),
            timeout=10,
        )
        self.assertEqual(resp.decision, pb.DECISION_PARTIALLY_APPROVED)
        self.assertEqual(resp.refund_amount.amount, "15.48")
        self.assertEqual([r.code for r in resp.reasons], ["PRORATED_BY_USAGE"])

    def test_evaluate_claim_statutory_floor(self):
        # A French consumer's change of mind on day 14: excluded by the policy, refunded by law.
        resp = self.stub.EvaluateClaim(
            pb.EvaluateClaimRequest(
                policy_id="iptv-smarters-pro",
                purchase=purchase(customer_country="FR"),
                claim=pb.Claim(reason=pb.CLAIM_REASON_CHANGE_OF_MIND, description="changed my mind"),
                evaluated_at=ts("2026-01-19T10:00:00Z"),
            ),
            timeout=10,
        )
        self.assertEqual(resp.decision, pb.DECISION_APPROVED)
        self.assertEqual(resp.refund_amount.amount, "29.99")
        self.assertEqual(resp.refund_method, pb.REFUND_METHOD_ORIGINAL_PAYMENT)
        self.assertEqual([r.code for r in resp.reasons], ["STATUTORY_WITHDRAWAL_RIGHT", "CHANGE_OF_MIND_EXCLUDED"])
        self.assertLessEqual(resp.timeline.funds_latest.ToDatetime(), datetime.datetime(2026, 2, 2, 10, 0))
        self.assertEqual(len(resp.alternatives), 0)
        self.assertEqual(len(resp.consequences), 0)

    def test_evaluate_claim_statutory_floor_second_edition(self):
        # Consent to immediate performance and access delivered: the unused share
        # from submission (2026-01-15 10:05Z: 21 of 31 days unused -> 20.32).
        req = pb.EvaluateClaimRequest(
            policy_id="iptv-smarters-pro",
            purchase=purchase(customer_country="FR", express_consent_immediate_performance=True),
            claim=pb.Claim(reason=pb.CLAIM_REASON_CHANGE_OF_MIND, description="changed my mind"),
            evaluated_at=ts("2026-01-15T10:05:00Z"),
        )
        resp = self.stub.EvaluateClaim(req, timeout=10)
        self.assertEqual(resp.decision, pb.DECISION_PARTIALLY_APPROVED)
        self.assertEqual(resp.refund_amount.amount, "20.32")
        self.assertEqual(
            [r.code for r in resp.reasons], ["STATUTORY_WITHDRAWAL_PROPORTIONAL", "CHANGE_OF_MIND_EXCLUDED"]
        )
        # The day of purchase does not count: the period ends at the end of
        # Monday 19 January in Paris (23:59:59 CET = 22:59:59Z).
        self.assertEqual(resp.claim_deadline.ToDatetime(), datetime.datetime(2026, 1, 19, 22, 59, 59))
        self.assertEqual(resp.policy.rules_edition, "2026-12-02")
        # The withdrawal information not given (optional field 15): the full amount.
        req.purchase.withdrawal_information_given = False
        resp = self.stub.EvaluateClaim(req, timeout=10)
        self.assertEqual(resp.decision, pb.DECISION_APPROVED)
        self.assertEqual(resp.refund_amount.amount, "29.99")
        self.assertEqual([r.code for r in resp.reasons], ["STATUTORY_WITHDRAWAL_RIGHT", "CHANGE_OF_MIND_EXCLUDED"])

    def test_evaluate_claim_explain(self):
        # The rule trace on request: every rule in order, one decisive, the one
        # that gave the primary reason; the same answer otherwise; none unasked.
        req = pb.EvaluateClaimRequest(
            policy_id="iptv-smarters-pro",
            purchase=purchase(),
            claim=pb.Claim(reason=pb.CLAIM_REASON_NOT_AS_DESCRIBED, description="missing features"),
            evaluated_at=ts("2026-01-20T10:05:00Z"),
            locale="fr",
        )
        plain = self.stub.EvaluateClaim(req, timeout=10)
        self.assertEqual(len(plain.trace), 0)
        req.explain = True
        resp = self.stub.EvaluateClaim(req, timeout=10)
        rules = [r.rule for r in resp.trace]
        self.assertEqual(rules[0], "floor.who")
        self.assertEqual(rules[-1], "engine.amount")
        self.assertIn("iptv-smarters-pro.within-48h", rules)
        decisive = [r for r in resp.trace if r.decisive]
        self.assertEqual(len(decisive), 1)
        self.assertEqual(decisive[0].rule, "iptv-smarters-pro.prorated")
        self.assertEqual(decisive[0].reason_code, resp.reasons[0].code)
        self.assertEqual(decisive[0].clause, resp.reasons[0].clause)
        self.assertTrue(decisive[0].matched)
        within = resp.trace[rules.index("iptv-smarters-pro.within-48h")]
        self.assertFalse(within.matched)
        self.assertIn("après l'achat ; le délai est de 48 h", within.detail)
        del resp.trace[:]
        self.assertEqual(resp, plain)
    def test_decision_id_is_recomputed_from_the_proto_comments(self):
        """EvaluateClaimResponse.decision_id, recomputed by this client from
        the recipe in the proto's comments alone, and engine_version."""
        import hashlib
        import struct

        def recompute(request, response):
            canonical = pb.EvaluateClaimRequest()
            canonical.CopyFrom(request)
            canonical.evaluated_at.CopyFrom(response.evaluated_at)
            canonical.ClearField("request_id")
            canonical.ClearField("locale")
            parts = [
                canonical.SerializeToString(deterministic=True),
                response.policy.id.encode(),
                response.policy.version.encode(),
                response.policy.rules_edition.encode(),
                response.engine_version.encode(),
            ]
            return hashlib.sha256(b"".join(struct.pack(">Q", len(p)) + p for p in parts)).hexdigest()

        request = pb.EvaluateClaimRequest(
            policy_id="iptv-smarters-pro",
            purchase=purchase(withdrawal_information_given=False, invoice_number="INV-1"),
            claim=pb.Claim(
                reason=pb.CLAIM_REASON_SERVICE_OUTAGE,
                outage=pb.Outage(),
                support=pb.SupportHistory(contacted=True),
                device_officially_supported=False,
                evidence_attachments=2,
            ),
            evaluated_at=ts("2026-01-06T10:00:00Z"),
            locale="fr",
            request_id="interop-id-1",
        )
        answer = self.stub.EvaluateClaim(request, timeout=10)
        self.assertRegex(answer.decision_id, r"^[0-9a-f]{64}$")
        self.assertRegex(answer.engine_version, r"^\d+\.\d+\.\d+")
        self.assertEqual(answer.decision_id, recompute(request, answer))

        # request_id and locale do not enter the id; a decision-relevant field does.
        other = pb.EvaluateClaimRequest()
        other.CopyFrom(request)
        other.request_id = "interop-id-2"
        other.locale = "en"
        self.assertEqual(self.stub.EvaluateClaim(other, timeout=10).decision_id, answer.decision_id)
        other.claim.evidence_attachments = 3
        self.assertNotEqual(self.stub.EvaluateClaim(other, timeout=10).decision_id, answer.decision_id)

        # Unset evaluated_at: the id is over the instant used, which the answer echoes.
        unset = pb.EvaluateClaimRequest()
        unset.CopyFrom(request)
        unset.ClearField("evaluated_at")
        unset.claim.submitted_at.CopyFrom(ts("2026-01-06T10:00:00Z"))
        later = self.stub.EvaluateClaim(unset, timeout=10)
        self.assertEqual(later.decision_id, recompute(unset, later))

    def test_quote_refund(self):
        resp = self.stub.QuoteRefund(
            pb.QuoteRefundRequest(
                policy_id="iptv-smarters-pro", purchase=purchase(), as_of=ts("2026-01-20T10:05:00Z")
            ),
            timeout=10,
        )
        self.assertEqual(resp.refundable_now.amount, "15.48")
        self.assertEqual(resp.basis, pb.REFUND_BASIS_PRORATED_UNUSED)
        self.assertEqual(resp.unused_fraction, "0.5161")
        schedule = [
            (w.starts_at.ToDatetime(), w.ends_at.ToDatetime() if w.HasField("ends_at") else None, w.basis)
            for w in resp.schedule
        ]
        self.assertEqual(
            schedule,
            [
                (datetime.datetime(2026, 1, 5, 10, 0), datetime.datetime(2026, 1, 7, 10, 0), pb.REFUND_BASIS_FULL),
                (
                    datetime.datetime(2026, 1, 7, 10, 0),
                    datetime.datetime(2026, 2, 5, 10, 5),
                    pb.REFUND_BASIS_PRORATED_UNUSED,
                ),
                (datetime.datetime(2026, 2, 5, 10, 5), None, pb.REFUND_BASIS_NONE),
            ],
        )

    def test_list_policies(self):
        resp = self.stub.ListPolicies(pb.ListPoliciesRequest(locale="en"), timeout=10)
        ids = [p.ref.id for p in resp.policies]
        self.assertEqual(set(ids), corpus_policies())
        self.assertEqual(len(ids), len(set(ids)))
        for p in resp.policies:
            codes = [c.code for c in p.reason_codes]
            self.assertIn("STATUTORY_WITHDRAWAL_RIGHT", codes, p.ref.id)
            self.assertIn("STATUTORY_WITHDRAWAL_PROPORTIONAL", codes, p.ref.id)
            self.assertEqual(p.ref.rules_edition, "2026-12-02", p.ref.id)
            self.assertIn("TERMS_VIOLATION", codes, p.ref.id)
            self.assertTrue(all(c.description for c in p.reason_codes), p.ref.id)
        paris = {p.ref.id: (p.time_zone, p.holiday_calendar) for p in resp.policies}
        self.assertEqual(paris["smarterspro-officiel"], ("Europe/Paris", "FR"))
        self.assertEqual(paris["iptv-smarters-pro"], ("UTC", ""))

    def test_health_check(self):
        health = health_pb2_grpc.HealthStub(self.channel)
        for service in ("", SERVICE):
            resp = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            self.assertEqual(resp.status, health_pb2.HealthCheckResponse.SERVING, service)
        with self.assertRaises(grpc.RpcError) as err:
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
        self.assertEqual(err.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_health_watch(self):
        health = health_pb2_grpc.HealthStub(self.channel)
        stream = health.Watch(health_pb2.HealthCheckRequest(service=SERVICE), timeout=10)
        first = next(stream)
        self.assertEqual(first.status, health_pb2.HealthCheckResponse.SERVING)
        stream.cancel()

    def reflect(self, method_path, request):
        call = self.channel.stream_stream(
            method_path,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        return list(call(iter([request]), timeout=10))

    def check_reflection(self, method_path):
        [listing] = self.reflect(method_path, reflection_pb2.ServerReflectionRequest(list_services=""))
        names = {s.name for s in listing.list_services_response.service}
        self.assertIn(SERVICE, names)
        self.assertIn("grpc.health.v1.Health", names)
        [files] = self.reflect(method_path, reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE))
        methods = set()
        for raw in files.file_descriptor_response.file_descriptor_proto:
            fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
            for s in fd.service:
                if f"{fd.package}.{s.name}" == SERVICE:
                    methods |= {m.name for m in s.method}
        self.assertEqual(methods, {"EvaluateClaim", "QuoteRefund", "ListPolicies", "EvaluateClaims"})

    def test_reflection_v1alpha(self):
        # The generated v1alpha stub of grpcio-reflection.
        stub = reflection_pb2_grpc.ServerReflectionStub(self.channel)
        [listing] = list(
            stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
        )
        self.assertIn(SERVICE, {s.name for s in listing.list_services_response.service})
        self.check_reflection("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")

    def test_reflection_v1(self):
        # grpc.reflection.v1 has the same messages as v1alpha under another service name.
        self.check_reflection("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")

    def test_bad_request_detail(self):
        request = pb.EvaluateClaimRequest(
            policy_id="iptv-smarters-pro",
            purchase=purchase(amount_paid=pb.Money(currency_code="EUR", amount="-1"), term_months=121),
            claim=pb.Claim(reason=pb.CLAIM_REASON_UNSPECIFIED),
            evaluated_at=ts("2026-01-06T10:00:00Z"),
        )
        with self.assertRaises(grpc.RpcError) as err:
            self.stub.EvaluateClaim(request, timeout=10)
        self.assertEqual(err.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        status = rpc_status.from_call(err.exception)
        self.assertIsNotNone(status, "no google.rpc.Status in grpc-status-details-bin")
        fields = set()
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields |= {v.field for v in bad.field_violations}
        self.assertEqual(fields, {"purchase.amount_paid.amount", "purchase.term_months", "claim.reason"})

    def test_unknown_policy_is_not_found(self):
        with self.assertRaises(grpc.RpcError) as err:
            self.stub.EvaluateClaim(
                pb.EvaluateClaimRequest(
                    policy_id="no-such-policy",
                    purchase=purchase(),
                    claim=pb.Claim(reason=pb.CLAIM_REASON_NOT_AS_DESCRIBED),
                ),
                timeout=10,
            )
        self.assertEqual(err.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_evaluate_claims_stream_of_ten_thousand_with_bad_items(self):
        # One stream, 10,000 requests: every 1,000th invalid (no purchase),
        # every 2,500th for an unknown policy; 10,000 answers in order, the
        # bad ones as per-item errors carrying what the unary call sends.
        def request(i):
            if i % 1000 == 500:
                return pb.EvaluateClaimRequest(policy_id="iptv-smarters-pro", request_id=f"py-{i}")
            if i % 2500 == 1200:
                return pb.EvaluateClaimRequest(
                    policy_id="no-such-policy",
                    purchase=purchase(),
                    claim=pb.Claim(reason=pb.CLAIM_REASON_NOT_AS_DESCRIBED),
                    request_id=f"py-{i}",
                )
            return pb.EvaluateClaimRequest(
                policy_id="iptv-smarters-pro",
                purchase=purchase(),
                claim=pb.Claim(reason=pb.CLAIM_REASON_NOT_AS_DESCRIBED, description="missing features"),
                evaluated_at=ts("2026-01-06T10:00:00Z"),
                request_id=f"py-{i}",
            )

        answers = list(self.stub.EvaluateClaims((request(i) for i in range(10_000)), timeout=60))
        self.assertEqual(len(answers), 10_000)
        self.assertEqual([a.index for a in answers], list(range(10_000)))
        for i, answer in enumerate(answers):
            if i % 1000 == 500:
                self.assertEqual(answer.WhichOneof("result"), "error", i)
                self.assertEqual(answer.error.code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
                fields = set()
                for detail in answer.error.details:
                    bad = error_details_pb2.BadRequest()
                    self.assertTrue(detail.Unpack(bad))
                    fields |= {v.field for v in bad.field_violations}
                self.assertIn("purchase", fields)
            elif i % 2500 == 1200:
                self.assertEqual(answer.WhichOneof("result"), "error", i)
                self.assertEqual(answer.error.code, grpc.StatusCode.NOT_FOUND.value[0])
            else:
                self.assertEqual(answer.WhichOneof("result"), "response", i)
                self.assertEqual(answer.response.decision, pb.DECISION_APPROVED)
                self.assertEqual(answer.response.refund_amount.amount, "29.99")
                self.assertEqual(answer.response.request_id, f"py-{i}")
        # Each item's answer is the unary call's, byte for byte.
        unary = self.stub.EvaluateClaim(request(7), timeout=10)
        self.assertEqual(answers[7].response.SerializeToString(), unary.SerializeToString())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="path of the refund-eligibility release binary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="interop-") as out:
        generate_client(out)
        proc = start_binary(os.path.abspath(args.binary))
        try:
            suite = unittest.defaultTestLoader.loadTestsFromTestCase(Interop)
            result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
        finally:
            proc.terminate()
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    if code != 0:
        print(f"the binary exited with {code} after SIGTERM")
        failed += 1
    print(f"interop: {passed} passed, {failed} failed")
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
