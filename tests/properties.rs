//! Property tests: generated purchases and claims, run through the same code
//! path as the gRPC service (`grpc::service::evaluate` / `quote`) for every
//! policy in `PolicyId::ALL`, and the business-time arithmetic of both
//! calendars.
//!
//! Case counts default to CI-friendly numbers (see `cases`); set
//! `PROPTEST_CASES=N` to run N cases of every property instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{DateTime, Months, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use prost::Message;
use rust_decimal::{Decimal, RoundingStrategy};

use refund_eligibility::domain::calendar::Calendar;

/// The service binary's allocator (src/main.rs), so that the properties
/// hold under the allocator production runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use refund_eligibility::domain::claim::Country;
use refund_eligibility::domain::withdrawal;
use refund_eligibility::grpc::encode::list_policies_response;
use refund_eligibility::grpc::service;
use refund_eligibility::pb;
use refund_eligibility::policies::PolicyId;

// ---------------------------------------------------------------- config

/// `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        // Shrunk failures are written to tests/proptest-regressions/ and replayed first.
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- generators

/// 2020-01-01 .. 2035-01-01: several DST switches, leap years and Easters.
const EPOCH_MIN: i64 = 1_577_836_800;
const EPOCH_MAX: i64 = 2_051_222_400;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// Currencies with 0, 2, 3 and 4 minor-unit digits.
const CURRENCIES: &[(&str, u32)] = &[("EUR", 2), ("USD", 2), ("GBP", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4)];

/// Countries with (FR, DE, GB, NO, IE) and without (US, CH, CA, BR) the statutory right, and unknown.
/// Covered and uncovered countries, outermost regions and several-zone states among them.
const COUNTRIES: &[&str] = &[
    "", "FR", "DE", "GB", "NO", "IE", "PT", "ES", "RE", "AX", "US", "CH", "CA", "BR",
];

fn ts(secs: i64, nanos: i32) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: secs, nanos }
}

fn to_utc(t: &prost_types::Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(t.seconds, t.nanos as u32).unwrap()
}

/// `minor` minor units of a currency with `exp` digits, as a wire amount.
fn amount_string(minor: u64, exp: u32) -> String {
    if exp == 0 {
        return minor.to_string();
    }
    let unit = 10u64.pow(exp);
    format!("{}.{:0width$}", minor / unit, minor % unit, width = exp as usize)
}

fn minor_units() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => 0u64..100_000,
        1 => 0u64..1_000_000_000_000,
        1 => Just(0u64),
        1 => Just(1u64),
    ]
}

fn money(code: &'static str, exp: u32) -> impl Strategy<Value = pb::Money> {
    minor_units().prop_map(move |m| pb::Money {
        currency_code: code.to_owned(),
        amount: amount_string(m, exp),
    })
}

/// An instant offset from `base`: mostly within days, sometimes months.
fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => 0i64..(4 * DAY),
        2 => 0i64..(40 * DAY),
        1 => 0i64..(800 * DAY),
        1 => prop::sample::select(vec![0, 48 * HOUR, 48 * HOUR + 1, 7 * DAY, 14 * DAY, 14 * DAY + 1]),
    ]
}

fn nanos() -> impl Strategy<Value = i32> {
    prop_oneof![4 => Just(0i32), 1 => 0i32..1_000_000_000]
}

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "", "ORD-1", "x", "inv-2026-0001", "a@b.example"]).prop_map(str::to_owned)
}

fn term_months() -> impl Strategy<Value = u32> {
    prop_oneof![4 => prop::sample::select(vec![0u32, 1, 3, 6, 12]), 1 => 0u32..=120]
}

prop_compose! {
    fn purchase()(
        (code, exp) in prop::sample::select(CURRENCIES),
        minor in minor_units(),
        purchased in EPOCH_MIN..EPOCH_MAX,
        purchased_nanos in nanos(),
        delivered in prop::option::weighted(0.75, prop_oneof![2 => 0i64..(10 * 60), 2 => 0i64..(5 * DAY), 1 => offset()]),
        term in term_months(),
        price_type in 0i32..=2,
        payment_method in 0i32..=6,
        customer_type in 0i32..=2,
        country in prop::sample::select(COUNTRIES),
        consent in any::<bool>(),
        information in prop::option::weighted(0.2, any::<bool>()),
        (order_id, invoice, email, reseller, txn) in (text(), text(), text(), text(), text()),
    ) -> pb::Purchase {
        pb::Purchase {
            order_id,
            amount_paid: Some(pb::Money { currency_code: code.to_owned(), amount: amount_string(minor, exp) }),
            purchased_at: Some(ts(purchased, purchased_nanos)),
            delivered_at: delivered.map(|d| ts(purchased + d, purchased_nanos)),
            term_months: term,
            price_type,
            payment_method,
            customer_type,
            customer_country: country.to_owned(),
            express_consent_immediate_performance: consent,
            withdrawal_information_given: information,
            invoice_number: invoice,
            purchase_email: email,
            reseller_id: reseller,
            transaction_id: txn,
        }
    }
}

/// A claim about `purchase`, valid under the rulings' Validation paragraph,
/// with the instant it is evaluated at.
fn claim_for(purchase: &pb::Purchase) -> impl Strategy<Value = (pb::Claim, prost_types::Timestamp)> {
    let p = purchase.purchased_at.unwrap();
    let code: &'static str = CURRENCIES
        .iter()
        .find(|(c, _)| *c == purchase.amount_paid.as_ref().unwrap().currency_code)
        .unwrap()
        .0;
    let exp = CURRENCIES.iter().find(|(c, _)| *c == code).unwrap().1;
    let paid = purchase.amount_paid.clone().unwrap();
    let outage = (
        prop_oneof![
            3 => 0i64..(5 * DAY),
            1 => prop::sample::select(vec![0, 12 * HOUR, 24 * HOUR, 48 * HOUR, 48 * HOUR + 1, 72 * HOUR]),
        ],
        any::<bool>(),
        0i32..=3,
        any::<bool>(),
    )
        .prop_map(|(secs, announced, scope, resolved)| pb::Outage {
            duration: Some(prost_types::Duration {
                seconds: secs,
                nanos: 0,
            }),
            announced,
            scope,
            resolved,
        });
    // First contact: after the purchase, or shortly before the evaluation
    // (so that waiting periods counted from it are still running).
    let support = (
        any::<[bool; 6]>(),
        prop::option::of((any::<bool>(), prop_oneof![0i64..(3 * DAY), offset()])),
    );
    // Billing amounts: the amount paid itself, or any amount, in the purchase's currency.
    let billing = move || {
        let paid = paid.clone();
        prop::option::weighted(0.6, prop_oneof![1 => Just(paid), 2 => money(code, exp)])
    };
    (
        (1i32..=15, offset(), any::<bool>(), 0i64..(30 * DAY), nanos()),
        prop::option::of(prop_oneof![(-2 * DAY)..(2 * DAY), offset()]),
        (0i32..=6, prop::option::weighted(0.6, outage), support),
        (text(), 0u32..3),
        (billing(), billing(), billing()),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            prop::bool::weighted(0.1),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            move |(
                (reason, submit, submitted_set, eval_after, eval_nanos),
                issue,
                (cause, outage, support),
                (description, evidence),
                (charged, expected, duplicate),
                (supported, meets, terms, chargeback, adult),
            )| {
                let submitted = p.seconds + submit;
                let evaluated = ts(submitted + eval_after, eval_nanos.max(p.nanos));
                let (flags, contact) = support;
                let support = pb::SupportHistory {
                    contacted: flags[0],
                    first_contacted_at: contact.map(|(near_evaluation, c)| {
                        if near_evaluation {
                            ts((evaluated.seconds - c % (3 * DAY)).max(p.seconds), 0)
                        } else {
                            ts(p.seconds + c, 0)
                        }
                    }),
                    troubleshooting_completed: flags[1],
                    resolved: flags[2],
                    incompatibility_confirmed: flags[3],
                    compensation_offered: flags[4],
                    compensation_declined: flags[5],
                };
                let claim = pb::Claim {
                    reason,
                    submitted_at: submitted_set.then(|| ts(submitted, p.nanos)),
                    issue_started_at: issue.map(|i| ts(p.seconds + i, 0)),
                    cause,
                    outage,
                    support: Some(support),
                    description,
                    evidence_attachments: evidence,
                    charged_amount: charged,
                    expected_amount: expected,
                    duplicate_amount: duplicate,
                    device_officially_supported: supported,
                    device_meets_minimum_requirements: meets,
                    terms_violation: terms,
                    chargeback_filed: chargeback,
                    concerns_adult_content: adult,
                };
                (claim, evaluated)
            },
        )
}

fn locale() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "en", "fr", "fr-FR", "de"]).prop_map(str::to_owned)
}

/// A valid EvaluateClaim request, without its policy id.
fn request() -> impl Strategy<Value = pb::EvaluateClaimRequest> {
    (purchase(), locale(), text())
        .prop_flat_map(|(purchase, locale, request_id)| {
            let claim = claim_for(&purchase);
            (Just(purchase), claim, Just(locale), Just(request_id))
        })
        .prop_map(
            |(purchase, (claim, evaluated_at), locale, request_id)| pb::EvaluateClaimRequest {
                policy_id: String::new(),
                purchase: Some(purchase),
                claim: Some(claim),
                evaluated_at: Some(evaluated_at),
                locale,
                request_id,
                explain: false,
            },
        )
}

fn with_policy(req: &pb::EvaluateClaimRequest, policy: PolicyId) -> pb::EvaluateClaimRequest {
    pb::EvaluateClaimRequest {
        policy_id: policy.meta().id.to_owned(),
        ..req.clone()
    }
}

// ---------------------------------------------------------------- oracles

fn dec(m: &Option<pb::Money>) -> Decimal {
    Decimal::from_str(&m.as_ref().expect("money is set").amount).expect("a decimal amount")
}

fn exponent(code: &str) -> u32 {
    CURRENCIES.iter().find(|(c, _)| *c == code).map(|c| c.1).unwrap()
}

/// Every policy's reason-code catalog, as ListPolicies publishes it.
fn catalogs() -> &'static BTreeMap<String, BTreeSet<String>> {
    static CATALOGS: OnceLock<BTreeMap<String, BTreeSet<String>>> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        list_policies_response(None)
            .policies
            .into_iter()
            .map(|p| {
                let id = p.r#ref.unwrap().id;
                (id, p.reason_codes.into_iter().map(|c| c.code).collect())
            })
            .collect()
    })
}

const STATUTORY_CODES: &[&str] = &["STATUTORY_WITHDRAWAL_RIGHT", "STATUTORY_WITHDRAWAL_PROPORTIONAL"];
/// Reason codes of rulings that pay the overcharge or duplicate amount rather
/// than the amount paid (POLICY_RULINGS.md, "Charge disputes").
const BILLING_CODES: &[&str] = &[
    "BILLING_ERROR_OVERCHARGE",
    "DUPLICATE_PAYMENT",
    "BILLING_ERROR_EXCEPTION",
];

/// What full approval of this claim pays under the reasons given: the amount
/// paid, or for a billing-error or duplicate-payment rule the whole
/// overcharge / duplicate amount (never more than was paid).
fn full_amount(req: &pb::EvaluateClaimRequest, resp: &pb::EvaluateClaimResponse) -> Decimal {
    let purchase = req.purchase.as_ref().unwrap();
    let claim = req.claim.as_ref().unwrap();
    let paid = dec(&purchase.amount_paid);
    let primary_statutory = resp
        .reasons
        .first()
        .is_some_and(|r| STATUTORY_CODES.contains(&r.code.as_str()));
    let billing_rule = resp.reasons.iter().any(|r| BILLING_CODES.contains(&r.code.as_str()));
    if primary_statutory || !billing_rule {
        return paid;
    }
    let amount = |m: &Option<pb::Money>| m.as_ref().map(|_| dec(m));
    // Not supplied (a policy may ask for it and show the amount paid meanwhile): the amount paid bounds it.
    let disputed = if claim.reason == pb::ClaimReason::DuplicatePayment as i32 {
        amount(&claim.duplicate_amount).filter(|d| !d.is_zero()).unwrap_or(paid)
    } else {
        match (amount(&claim.charged_amount), amount(&claim.expected_amount)) {
            (Some(c), Some(e)) => (c - e).max(Decimal::ZERO),
            _ => paid,
        }
    };
    disputed.min(paid)
}

/// What the statutory floor owes a claim, modelled from the rulings (second
/// edition): `Some(true)` the full amount, `Some(false)` the unused share,
/// `None` not covered (not a consumer, not a covered country, a charge
/// dispute, out of time, or the right lost with the term). The period comes
/// from the domain's `withdrawal::period`, tested on its own against the
/// rulings' worked examples.
fn statutory_floor(req: &pb::EvaluateClaimRequest) -> Option<bool> {
    let p = req.purchase.as_ref().unwrap();
    let c = req.claim.as_ref().unwrap();
    if matches!(
        c.reason(),
        pb::ClaimReason::BillingError | pb::ClaimReason::DuplicatePayment
    ) {
        return None;
    }
    let consumer = match p.customer_type() {
        pb::CustomerType::Consumer => true,
        pb::CustomerType::Unspecified => req.policy_id != "iptv-reseller",
        pb::CustomerType::Business => false,
    };
    if !consumer {
        return None;
    }
    let country = Country::from_code(&p.customer_country)?;
    let information = p.withdrawal_information_given.unwrap_or(true);
    let purchased = to_utc(p.purchased_at.as_ref().unwrap());
    let period = withdrawal::period(country, purchased, information)?;
    let submitted = to_utc(&c.submitted_at.or(req.evaluated_at).unwrap());
    if !period.contains(submitted) {
        return None;
    }
    let delivered = p.delivered_at.as_ref().is_some_and(|d| to_utc(d) <= submitted);
    if !(p.express_consent_immediate_performance && information && delivered) {
        return Some(true);
    }
    match term_end(p) {
        Some(end) if end <= submitted => None,
        _ => Some(false),
    }
}

fn statutory_applies(req: &pb::EvaluateClaimRequest) -> bool {
    statutory_floor(req).is_some()
}

/// Checks one answer against the invariants every policy must keep.
fn check_answer(req: &pb::EvaluateClaimRequest) -> Result<pb::EvaluateClaimResponse, TestCaseError> {
    let policy = req.policy_id.clone();
    let resp = match service::evaluate(req.clone(), Utc::now()) {
        Ok(r) => r,
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "{policy}: a valid request was refused: {e}"
            )))
        }
    };
    let purchase = req.purchase.as_ref().unwrap();
    let paid = dec(&purchase.amount_paid);
    let refund = resp.refund_amount.as_ref();
    prop_assert!(refund.is_some(), "{policy}: refund_amount unset");
    let refund_money = refund.unwrap();
    let currency = &purchase.amount_paid.as_ref().unwrap().currency_code;
    prop_assert_eq!(&refund_money.currency_code, currency, "{}: refund currency", policy);
    // Exactly the currency's minor-unit digits on the wire.
    let digits = refund_money.amount.split_once('.').map_or(0, |(_, f)| f.len() as u32);
    prop_assert_eq!(
        digits,
        exponent(currency),
        "{}: {} has the wrong scale",
        policy,
        refund_money.amount
    );
    let refund = dec(&resp.refund_amount);
    prop_assert!(refund >= Decimal::ZERO, "{policy}: negative refund {refund}");
    prop_assert!(
        refund <= paid,
        "{policy}: refund {refund} exceeds the amount paid {paid}"
    );
    let full = full_amount(req, &resp);
    prop_assert!(
        refund <= full,
        "{policy}: refund {refund} exceeds what full approval pays ({full})"
    );

    let decision = resp.decision();
    match decision {
        pb::Decision::Approved => prop_assert_eq!(refund, full, "{}: APPROVED must pay the full amount", policy),
        pb::Decision::PartiallyApproved => prop_assert!(
            Decimal::ZERO < refund && refund < full,
            "{policy}: PARTIALLY_APPROVED pays {refund}, not strictly between 0 and {full}"
        ),
        pb::Decision::Denied => prop_assert_eq!(refund, Decimal::ZERO, "{}: DENIED must pay 0", policy),
        pb::Decision::OfferCompensation => prop_assert!(
            !resp.alternatives.is_empty(),
            "{policy}: OFFER_COMPENSATION without alternatives"
        ),
        pb::Decision::NeedsReview | pb::Decision::NeedsInformation => {}
        pb::Decision::Unspecified => prop_assert!(false, "{policy}: DECISION_UNSPECIFIED"),
    }
    if matches!(decision, pb::Decision::Approved | pb::Decision::PartiallyApproved) && refund > Decimal::ZERO {
        prop_assert_ne!(
            resp.refund_method(),
            pb::RefundMethod::Unspecified,
            "{}: money paid without a method",
            policy
        );
    }
    if decision == pb::Decision::Denied {
        prop_assert_eq!(
            resp.refund_method(),
            pb::RefundMethod::Unspecified,
            "{}: DENIED with a method",
            policy
        );
    }
    prop_assert_eq!(
        decision == pb::Decision::NeedsInformation,
        !resp.missing_information.is_empty(),
        "{}: NEEDS_INFORMATION iff missing_information: {:?} {:?}",
        policy,
        decision,
        resp.missing_information
    );

    // Reasons: at least one, each from the policy's published catalog.
    prop_assert!(!resp.reasons.is_empty(), "{policy}: no reason given");
    let catalog = &catalogs()[&policy];
    for r in &resp.reasons {
        prop_assert!(
            catalog.contains(&r.code),
            "{policy}: reason {} is not in the catalog",
            r.code
        );
        prop_assert!(
            !r.clause.is_empty() && !r.message.is_empty(),
            "{policy}: bare reason {r:?}"
        );
    }
    for a in &resp.alternatives {
        prop_assert_ne!(
            a.kind(),
            pb::CompensationKind::Unspecified,
            "{}: alternative without kind",
            policy
        );
        if let Some(m) = &a.amount {
            prop_assert_eq!(&m.currency_code, currency, "{}: alternative currency", policy);
        }
    }

    // Promised dates come in order.
    if let Some(t) = &resp.timeline {
        let at = |x: &Option<prost_types::Timestamp>| x.as_ref().map(to_utc);
        if let (Some(a), Some(d)) = (at(&t.acknowledge_by), at(&t.decide_by)) {
            prop_assert!(a <= d, "{policy}: acknowledge_by {a} after decide_by {d}");
        }
        if let (Some(e), Some(l)) = (at(&t.funds_earliest), at(&t.funds_latest)) {
            prop_assert!(e <= l, "{policy}: funds_earliest {e} after funds_latest {l}");
        }
    }

    // The statutory floor comes before every policy, and its terms apply
    // whenever it covers a claim.
    let statutory_codes = resp
        .reasons
        .iter()
        .filter(|r| STATUTORY_CODES.contains(&r.code.as_str()))
        .count();
    if let Some(full) = statutory_floor(req) {
        prop_assert_eq!(
            statutory_codes,
            1,
            "{}: one statutory reason expected: {:?}",
            policy,
            resp.reasons
        );
        if full {
            prop_assert_eq!(
                decision,
                pb::Decision::Approved,
                "{}: statutory withdrawal not approved",
                policy
            );
            prop_assert_eq!(refund, paid, "{}: statutory withdrawal not paid in full", policy);
        } else {
            prop_assert!(
                matches!(
                    decision,
                    pb::Decision::Approved | pb::Decision::PartiallyApproved | pb::Decision::NeedsReview
                ),
                "{policy}: proportional withdrawal decided {decision:?}"
            );
            if decision == pb::Decision::NeedsReview {
                prop_assert_eq!(purchase.term_months, 0, "{}: review only without a term", policy);
            }
        }
        prop_assert!(
            resp.consequences.is_empty(),
            "{policy}: a consequence on a statutory withdrawal"
        );
        prop_assert!(
            resp.missing_information.is_empty(),
            "{policy}: a precondition on a statutory withdrawal"
        );
        if refund > Decimal::ZERO {
            prop_assert_eq!(
                resp.refund_method(),
                pb::RefundMethod::OriginalPayment,
                "{}: statutory method",
                policy
            );
            let submitted = req.claim.as_ref().unwrap().submitted_at.or(req.evaluated_at).unwrap();
            let latest = resp.timeline.as_ref().and_then(|t| t.funds_latest.as_ref()).map(to_utc);
            prop_assert!(
                latest.is_some_and(|l| l <= to_utc(&submitted) + TimeDelta::days(14)),
                "{policy}: statutory funds_latest {latest:?} is later than 14 days after the claim"
            );
        }
    } else {
        prop_assert_eq!(
            statutory_codes,
            0,
            "{}: statutory reason where the floor does not apply",
            policy
        );
    }
    Ok(resp)
}

// ---------------------------------------------------------------- EvaluateClaim properties

proptest! {
    #![proptest_config(config(1024))]

    /// No panic, amounts within bounds, decisions consistent with amounts,
    /// catalogued reasons, statutory floor first: for every policy.
    #[test]
    fn every_answer_keeps_the_invariants(req in request()) {
        for &policy in PolicyId::ALL {
            check_answer(&with_policy(&req, policy))?;
        }
    }

    /// The same request gives byte-identical encoded responses, whatever the
    /// server clock says once `evaluated_at` is set; an unset `evaluated_at`
    /// is exactly the server clock.
    #[test]
    fn answers_are_pure_functions_of_the_request(req in request(), clock in EPOCH_MIN..EPOCH_MAX) {
        let now = DateTime::from_timestamp(clock, 0).unwrap();
        for &policy in PolicyId::ALL {
            let req = with_policy(&req, policy);
            let a = service::evaluate(req.clone(), now).unwrap().encode_to_vec();
            let b = service::evaluate(req.clone(), Utc::now()).unwrap().encode_to_vec();
            prop_assert_eq!(&a, &b, "{}: answers differ", policy.meta().id);
            let evaluated = req.evaluated_at.unwrap();
            let unset = pb::EvaluateClaimRequest { evaluated_at: None, ..req.clone() };
            let c = service::evaluate(unset, to_utc(&evaluated)).unwrap().encode_to_vec();
            prop_assert_eq!(&a, &c, "{}: unset evaluated_at is not the clock", policy.meta().id);
            let q = pb::QuoteRefundRequest {
                policy_id: req.policy_id.clone(),
                purchase: req.purchase.clone(),
                as_of: req.evaluated_at,
                locale: req.locale.clone(),
            };
            let qa = service::quote(q.clone(), now).unwrap().encode_to_vec();
            let qb = service::quote(q, Utc::now()).unwrap().encode_to_vec();
            prop_assert_eq!(qa, qb, "{}: quotes differ", policy.meta().id);
        }
    }

    /// With `explain`, the answer is the same as without, and its trace has
    /// exactly one decisive rule, the one that returned the primary reason;
    /// without `explain`, no trace.
    #[test]
    fn exactly_one_trace_entry_decides_and_it_gave_the_primary_reason(req in request()) {
        for &policy in PolicyId::ALL {
            let id = policy.meta().id;
            let plain = with_policy(&req, policy);
            let explained = pb::EvaluateClaimRequest { explain: true, ..plain.clone() };
            let a = service::evaluate(plain, Utc::now()).unwrap();
            let mut b = service::evaluate(explained, Utc::now()).unwrap();
            prop_assert!(a.trace.is_empty(), "{}: a trace without explain", id);
            let trace = std::mem::take(&mut b.trace);
            prop_assert_eq!(&a, &b, "{}: explain changed the answer", id);
            let decisive: Vec<_> = trace.iter().filter(|r| r.decisive).collect();
            prop_assert_eq!(decisive.len(), 1, "{}: {} decisive entries in {:#?}", id, decisive.len(), trace);
            let primary = &b.reasons[0];
            prop_assert_eq!(&decisive[0].reason_code, &primary.code, "{}: {:#?}", id, trace);
            prop_assert_eq!(&decisive[0].clause, &primary.clause, "{}: clause", id);
            prop_assert!(decisive[0].matched, "{}: a decisive rule that did not match", id);
            prop_assert!(trace.first().is_some_and(|r| r.rule == "floor.who"), "{}: the floor comes first", id);
            prop_assert!(trace.last().is_some_and(|r| r.rule == "engine.amount"), "{}: the amount comes last", id);
            prop_assert!(trace.iter().all(|r| !r.detail.is_empty() && r.rule.contains('.')), "{}: {:#?}", id, trace);
        }
    }

    /// With the claim's filing time fixed, evaluating it later never pays
    /// more for the same reasons (a prorated refund only shrinks as time is used).
    #[test]
    fn refunds_never_grow_as_evaluation_moves_later(req in request(), later in prop_oneof![0i64..DAY, 0i64..(400 * DAY)]) {
        let submitted = req.claim.as_ref().unwrap().submitted_at.or(req.evaluated_at);
        let mut early = req.clone();
        early.claim.as_mut().unwrap().submitted_at = submitted;
        let mut late = early.clone();
        late.evaluated_at.as_mut().unwrap().seconds += later;
        for &policy in PolicyId::ALL {
            let a = check_answer(&with_policy(&early, policy))?;
            let b = check_answer(&with_policy(&late, policy))?;
            let codes = |r: &pb::EvaluateClaimResponse| r.reasons.iter().map(|r| r.code.clone()).collect::<Vec<_>>();
            if codes(&a) == codes(&b) {
                prop_assert!(
                    dec(&b.refund_amount) <= dec(&a.refund_amount),
                    "{}: {:?} paid {} at {:?} but {} {}s later",
                    policy.meta().id, codes(&a), dec(&a.refund_amount), early.evaluated_at, dec(&b.refund_amount), later
                );
            }
        }
    }
}

// ---------------------------------------------------------------- QuoteRefund properties

/// The refund a basis gives at `t`, computed from the rulings (not the engine).
fn expected_amount(purchase: &pb::Purchase, basis: pb::RefundBasis, t: DateTime<Utc>) -> Decimal {
    let paid = dec(&purchase.amount_paid);
    let exp = exponent(&purchase.amount_paid.as_ref().unwrap().currency_code);
    match basis {
        pb::RefundBasis::Full => paid,
        pb::RefundBasis::None | pb::RefundBasis::Unspecified => Decimal::ZERO,
        pb::RefundBasis::ProratedUnused => {
            let Some(end) = term_end(purchase) else {
                return Decimal::ZERO;
            };
            let start = term_start(purchase);
            let total = (end - start).num_seconds();
            let delivered = purchase.delivered_at.as_ref().map(to_utc).is_some_and(|d| d <= t);
            let unused = if delivered {
                (end - t.max(start)).num_seconds().clamp(0, total)
            } else {
                total
            };
            (paid * Decimal::from(unused) / Decimal::from(total))
                .round_dp_with_strategy(exp, RoundingStrategy::MidpointNearestEven)
        }
    }
}

fn term_start(p: &pb::Purchase) -> DateTime<Utc> {
    to_utc(p.delivered_at.as_ref().or(p.purchased_at.as_ref()).unwrap())
}

/// The end of the service term (same day of month, clamped), `None` without one.
fn term_end(p: &pb::Purchase) -> Option<DateTime<Utc>> {
    (p.term_months > 0).then(|| term_start(p).checked_add_months(Months::new(p.term_months)).unwrap())
}

fn quote_request(policy: PolicyId, purchase: &pb::Purchase, as_of: i64) -> pb::QuoteRefundRequest {
    let p = purchase.purchased_at.unwrap();
    pb::QuoteRefundRequest {
        policy_id: policy.meta().id.to_owned(),
        purchase: Some(purchase.clone()),
        as_of: Some(ts(p.seconds + as_of, p.nanos)),
        locale: String::new(),
    }
}

/// Checks one quote; returns refundable_now.
fn check_quote(policy: PolicyId, purchase: &pb::Purchase, as_of: i64) -> Result<Decimal, TestCaseError> {
    let id = policy.meta().id;
    let req = quote_request(policy, purchase, as_of);
    let as_of = to_utc(req.as_of.as_ref().unwrap());
    let resp = service::quote(req, Utc::now()).map_err(|e| TestCaseError::fail(format!("{id}: refused: {e}")))?;
    let s = &resp.schedule;
    prop_assert!(!s.is_empty(), "{id}: empty schedule");
    let purchased = to_utc(purchase.purchased_at.as_ref().unwrap());
    prop_assert_eq!(
        s[0].starts_at.as_ref().map(to_utc),
        Some(purchased),
        "{}: schedule does not start at purchase",
        id
    );
    for (i, w) in s.iter().enumerate() {
        let start = to_utc(w.starts_at.as_ref().unwrap());
        if let Some(end) = w.ends_at.as_ref().map(to_utc) {
            // Only the first window may be a single instant.
            prop_assert!(
                start < end || (i == 0 && start == end),
                "{id}: window {i} runs backwards: {s:?}"
            );
            let next = s.get(i + 1);
            prop_assert!(
                next.is_some() || term_end(purchase).is_none_or(|e| end >= e),
                "{id}: schedule stops at {end} before the term ends: {s:?}"
            );
            if let Some(next) = next {
                prop_assert_eq!(
                    next.starts_at.as_ref().map(to_utc),
                    Some(end),
                    "{}: gap or overlap after window {}",
                    id,
                    i
                );
            }
        } else {
            prop_assert_eq!(i + 1, s.len(), "{}: an open-ended window is not last", id);
        }
        prop_assert_eq!(
            dec(&w.amount_at_start),
            expected_amount(purchase, w.basis(), start),
            "{}: window {} amount_at_start",
            id,
            i
        );
        let code = &w.reason.as_ref().unwrap().code;
        prop_assert!(
            catalogs()[id].contains(code),
            "{id}: window reason {code} is not in the catalog"
        );
    }
    // The window containing as_of: the first covers its start; the others (start, end].
    let containing = s.iter().enumerate().find(|(i, w)| {
        let start = to_utc(w.starts_at.as_ref().unwrap());
        let after_start = as_of > start || (*i == 0 && as_of == start);
        after_start && w.ends_at.as_ref().map(to_utc).is_none_or(|e| as_of <= e)
    });
    let now = dec(&resp.refundable_now);
    if let Some((_, w)) = containing {
        prop_assert_eq!(
            resp.basis(),
            w.basis(),
            "{}: basis differs from the window containing as_of",
            id
        );
        prop_assert_eq!(
            now,
            expected_amount(purchase, w.basis(), as_of),
            "{}: refundable_now at {}",
            id,
            as_of
        );
    }
    prop_assert!(
        now >= Decimal::ZERO && now <= dec(&purchase.amount_paid),
        "{id}: refundable_now {now} out of range"
    );
    let fraction = Decimal::from_str(&resp.unused_fraction).unwrap();
    prop_assert!(
        fraction >= Decimal::ZERO && fraction <= Decimal::ONE,
        "{id}: unused_fraction {fraction}"
    );
    for r in &resp.reasons {
        prop_assert!(
            catalogs()[id].contains(&r.code),
            "{id}: reason {} is not in the catalog",
            r.code
        );
    }
    Ok(now)
}

proptest! {
    #![proptest_config(config(1024))]

    /// The schedule covers purchase to term end without gaps or overlaps,
    /// and refundable_now is the amount of the window containing as_of.
    #[test]
    fn quotes_cover_the_term_without_gaps(purchase in purchase(), as_of in offset()) {
        for &policy in PolicyId::ALL {
            check_quote(policy, &purchase, as_of)?;
        }
    }

    /// What a no-fault refund is worth never grows as as_of moves later.
    #[test]
    fn quoted_refunds_never_grow(purchase in purchase(), a in offset(), b in offset()) {
        let (early, late) = (a.min(b), a.max(b));
        for &policy in PolicyId::ALL {
            let x = check_quote(policy, &purchase, early)?;
            let y = check_quote(policy, &purchase, late)?;
            prop_assert!(y <= x, "{}: {} at +{}s but {} at +{}s", policy.meta().id, x, early, y, late);
        }
    }
}

// ---------------------------------------------------------------- business time

fn calendars() -> impl Strategy<Value = Calendar> {
    prop::sample::select(vec![Calendar::UTC_WEEKENDS, Calendar::PARIS_FRENCH_HOLIDAYS])
}

/// An instant, biased to whole hours, midnights and the DST switch nights.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        2 => EPOCH_MIN..EPOCH_MAX,
        1 => (EPOCH_MIN / HOUR..EPOCH_MAX / HOUR).prop_map(|h| h * HOUR),
        1 => (2020i32..2035, prop::sample::select(vec![(3u32, 25u32), (3, 31), (10, 25), (10, 31), (12, 24), (4, 30), (5, 7)]), 0u32..7, 0i64..(DAY / 1800))
            .prop_map(|(y, (m, d), k, half_hours)| {
                Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap().timestamp() + i64::from(k) * DAY + half_hours * 1800 - 2 * HOUR
            }),
    ]
    .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

proptest! {
    #![proptest_config(config(2048))]

    /// Adding N then M business hours is adding N+M, for both calendars.
    #[test]
    fn business_hours_compose(cal in calendars(), t in instant(), n in 0u32..300, m in 0u32..300) {
        let stepwise = cal.add_business_hours(cal.add_business_hours(t, n), m);
        prop_assert_eq!(stepwise, cal.add_business_hours(t, n + m), "{} + {}h + {}h", t, n, m);
    }

    /// Business time is monotonic in the start and the amount, never moves
    /// backwards, and lands only where business time is counted.
    #[test]
    fn business_hours_are_monotonic(cal in calendars(), t in instant(), dt in 0i64..(10 * DAY), n in 0u32..300, m in 0u32..300) {
        let u = t + TimeDelta::seconds(dt);
        let (lo, hi) = (n.min(m), n.max(m));
        prop_assert!(cal.add_business_hours(t, n) >= t);
        prop_assert!(cal.add_business_hours(t, n) <= cal.add_business_hours(u, n), "start {} vs {}", t, u);
        prop_assert!(cal.add_business_hours(t, lo) <= cal.add_business_hours(t, hi), "{}h vs {}h", lo, hi);
        if n > 0 {
            let end = cal.add_business_hours(t, n);
            // The last instant counted is a business instant.
            prop_assert!(cal.is_business_instant(end - TimeDelta::seconds(1)), "{} + {}h = {}", t, n, end);
        }
    }

    /// business_time_between inverts add_business_hours.
    #[test]
    fn business_time_between_inverts_adding(cal in calendars(), t in instant(), n in 0u32..300, dt in 0i64..(20 * DAY)) {
        let end = cal.add_business_hours(t, n);
        prop_assert_eq!(cal.business_time_between(t, end), TimeDelta::hours(i64::from(n)), "{} + {}h = {}", t, n, end);
        // And the other way: the business time up to u, added to t, reaches no later than u
        // and counts the same business time.
        let u = t + TimeDelta::seconds(dt);
        let between = cal.business_time_between(t, u);
        let back = cal.add_business_time(t, between);
        prop_assert!(back <= u, "{} + {} = {} > {}", t, between, back, u);
        prop_assert_eq!(cal.business_time_between(t, back), between);
        prop_assert!(between <= u - t);
    }
}

// ---------------------------------------------------------------- generator sanity

/// The generators reach the situations the properties are about; without
/// this a property could pass by never meeting its case.
#[test]
fn generators_reach_every_decision_the_floor_and_most_rules() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = request();
    let mut decisions = BTreeSet::new();
    let mut codes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut statutory = 0;
    let mut prorated = 0;
    for _ in 0..2_000 {
        let req = strategy.new_tree(&mut runner).unwrap().current();
        statutory += usize::from(statutory_applies(&req));
        for &policy in PolicyId::ALL {
            let resp = service::evaluate(with_policy(&req, policy), Utc::now()).unwrap();
            decisions.insert(resp.decision);
            codes
                .entry(policy.meta().id.to_owned())
                .or_default()
                .extend(resp.reasons.iter().map(|r| r.code.clone()));
            prorated += usize::from(resp.decision() == pb::Decision::PartiallyApproved);
        }
    }
    assert!(statutory > 50, "the floor applied in only {statutory} of 2000 requests");
    for (id, catalog) in catalogs() {
        let seen = &codes[id];
        let reached = catalog.intersection(seen).count();
        let missing: Vec<_> = catalog.difference(seen).collect();
        eprintln!(
            "{id}: generated requests reach {reached} of {} catalog codes; not reached: {missing:?}",
            catalog.len()
        );
        assert!(
            reached * 10 >= catalog.len() * 8,
            "{id}: the generator reaches only {reached} of {} codes",
            catalog.len()
        );
    }
    assert!(prorated > 50, "only {prorated} partial approvals");
    for d in [
        pb::Decision::Approved,
        pb::Decision::PartiallyApproved,
        pb::Decision::Denied,
        pb::Decision::NeedsInformation,
        pb::Decision::NeedsReview,
    ] {
        assert!(decisions.contains(&(d as i32)), "no {d:?} generated");
    }
}
