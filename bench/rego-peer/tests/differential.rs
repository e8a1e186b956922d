//! Differential test: the compiled-in `iptv-smarters-pro` module (through
//! `engine::evaluate`, statutory floor included) and the Rego policy under
//! regorus must agree on decision, amount, reason codes and missing fields,
//! on every valid claim of the service's case corpus and on a deterministic
//! sample of generated claims that walks every rule of the ruling.
//!
//! History: the generated sample first found one divergence, the service
//! asking for required information twice when a rule's own field and
//! `purchase.order_id` were both missing (MISSING_REQUIRED_INFORMATION twice,
//! the rule's field dropped); the Rego policy followed the ruling, the
//! service was fixed (5ec14de), and both now agree on every claim.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use refund_eligibility::domain::claim::{
    ClaimReason, ClaimRequest, Country, CustomerType, IssueCause, Outage, OutageScope, SupportHistory,
};
use refund_eligibility::domain::money::{Currency, Money};
use refund_eligibility::engine;
use refund_eligibility::policies::PolicyId;
use rego_peer::{corpus_claims, corpus_path, verdict_of_native, RegoPeer, Verdict};

/// `None` when both agree, else both verdicts (the service's first).
fn compare(peer: &mut RegoPeer, req: &ClaimRequest) -> Option<(Verdict, Verdict)> {
    let native = verdict_of_native(&engine::evaluate(PolicyId::IptvSmartersPro, req));
    let rego = peer
        .verdict(req)
        .unwrap_or_else(|e| panic!("regorus failed: {e}\ninput: {}", rego_peer::input_json(req)));
    (native != rego).then_some((native, rego))
}

#[test]
fn corpus_claims_agree() {
    let claims = corpus_claims(&corpus_path()).expect("corpus loads");
    assert!(!claims.is_empty(), "no valid claim in the corpus");
    let mut peer = RegoPeer::new().expect("policy compiles");
    let mut failures = Vec::new();
    for c in &claims {
        assert_eq!(c.policy, PolicyId::IptvSmartersPro, "case {:?}", c.name);
        if let Some((native, rego)) = compare(&mut peer, &c.request) {
            failures.push(format!("case {:?}:\n  native {native:?}\n  rego   {rego:?}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus claims disagree:\n{}",
        failures.len(),
        claims.len(),
        failures.join("\n")
    );
    eprintln!("{} corpus claims agree", claims.len());
}

/// splitmix64: a small deterministic generator, so every run checks the same claims.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const REASONS: &[ClaimReason] = &[
    ClaimReason::ChangeOfMind,
    ClaimReason::NonDelivery,
    ClaimReason::ServiceOutage,
    ClaimReason::TechnicalIssue,
    ClaimReason::NotAsDescribed,
    ClaimReason::BillingError,
    ClaimReason::DuplicatePayment,
    ClaimReason::UnauthorizedTransaction,
    ClaimReason::DeviceIncompatibility,
    ClaimReason::ContentDissatisfaction,
    ClaimReason::SetupDifficulty,
    ClaimReason::WrongPlanSelected,
    ClaimReason::ServerSwitchRequest,
    ClaimReason::EndUserMismanagement,
    ClaimReason::ChannelUnavailable,
];

const CAUSES: &[IssueCause] = &[
    IssueCause::Undiagnosed,
    IssueCause::ServerSide,
    IssueCause::CustomerSide,
    IssueCause::Isp,
    IssueCause::ThirdPartyApp,
    IssueCause::ChannelSource,
    IssueCause::ForceMajeure,
];

fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

/// A claim built from independent random choices over the values each rule
/// distinguishes (boundaries included: exactly 48 h, 48 h + 1 s, 14 days ...).
fn generated(rng: &mut Rng, base: &ClaimRequest) -> ClaimRequest {
    let mut r = base.clone();
    let purchased: DateTime<Utc> = r.purchase.purchased_at;
    let amounts = [
        ("EUR", "29.99"),
        ("EUR", "0.01"),
        ("EUR", "1000.00"),
        ("USD", "59.90"),
        ("JPY", "1500"),
        ("KWD", "10.125"),
    ];
    let (cur, amount) = rng.pick(&amounts);
    let currency = Currency::from_code(cur).expect("currency");
    r.purchase.amount_paid = Money::parse(currency, amount).expect("amount");
    r.purchase.order_id = rng.pick(&["SP-1001", "SP-1001", ""]).to_owned();
    r.purchase.term_months = rng.pick(&[0, 1, 1, 3, 12]);
    r.purchase.delivered_at = rng.pick(&[
        Some(purchased + TimeDelta::minutes(5)),
        Some(purchased + TimeDelta::minutes(5)),
        None,
        Some(purchased + hours(72)),
    ]);
    let (country, customer_type, consent) = rng.pick(&[
        ("US", CustomerType::Consumer, false),
        ("US", CustomerType::Consumer, false),
        ("FR", CustomerType::Consumer, false),
        ("FR", CustomerType::Consumer, true),
        ("DE", CustomerType::Business, false),
        ("GB", CustomerType::Consumer, false),
        ("CH", CustomerType::Consumer, false),
        ("", CustomerType::Consumer, false),
    ]);
    r.purchase.customer_country = Country::from_code(country);
    r.purchase.customer_type = customer_type;
    r.purchase.express_consent_immediate_performance = consent;

    let submitted = purchased
        + rng.pick(&[
            hours(1),
            hours(48),
            hours(48) + TimeDelta::seconds(1),
            hours(24 * 10),
            hours(24 * 14),
            hours(24 * 14) + TimeDelta::seconds(1),
            hours(24 * 20),
            hours(24 * 40),
            hours(24 * 400),
        ]);
    r.claim.submitted_at = submitted;
    r.evaluated_at = submitted + rng.pick(&[TimeDelta::zero(), TimeDelta::zero(), hours(72)]);

    r.claim.reason = rng.pick(REASONS);
    r.claim.cause = rng.pick(CAUSES);
    r.claim.outage = rng
        .pick(&[
            None,
            Some((OutageScope::Full, hours(24))),
            Some((OutageScope::Full, hours(48))),
            Some((OutageScope::Full, hours(48) + TimeDelta::seconds(1))),
            Some((OutageScope::Full, hours(100))),
            Some((OutageScope::Unspecified, hours(72))),
            Some((OutageScope::Partial, hours(72))),
            Some((OutageScope::SingleChannel, hours(72))),
        ])
        .map(|(scope, duration)| Outage {
            duration,
            scope,
            ..Outage::default()
        });
    let first_contact = rng.pick(&[None, Some(hours(1)), Some(hours(48)), Some(hours(47)), Some(hours(72))]);
    let (contacted, resolved) = rng.pick(&[(false, false), (true, false), (true, false), (true, true)]);
    r.claim.support = SupportHistory {
        contacted,
        resolved,
        first_contacted_at: first_contact.map(|ago| r.evaluated_at - ago),
        ..SupportHistory::default()
    };
    r.claim.terms_violation = rng.next().is_multiple_of(8);
    r.claim.concerns_adult_content = rng.next().is_multiple_of(2);
    r
}

#[test]
fn generated_claims_agree() {
    let base = corpus_claims(&corpus_path())
        .expect("corpus loads")
        .into_iter()
        .next()
        .expect("a valid claim to start from")
        .request;
    let count: usize = std::env::var("REGO_PEER_CLAIMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut peer = RegoPeer::new().expect("policy compiles");
    let mut rng = Rng(0x5EED_2026);
    let mut failures = Vec::new();
    let mut codes = BTreeSet::new();
    for i in 0..count {
        let req = generated(&mut rng, &base);
        if let Some((native, rego)) = compare(&mut peer, &req) {
            failures.push(format!(
                "claim {i}: {}\n  native {native:?}\n  rego   {rego:?}",
                rego_peer::input_json(&req)
            ));
        }
        codes.extend(verdict_of_native(&engine::evaluate(PolicyId::IptvSmartersPro, &req)).reasons);
    }
    let shown: Vec<_> = failures.iter().take(5).cloned().collect();
    assert!(
        failures.is_empty(),
        "{} of {count} generated claims disagree; the first:\n{}",
        failures.len(),
        shown.join("\n")
    );
    // The sample reaches every reason code the policy and the floor can return.
    let catalog: BTreeSet<String> = PolicyId::IptvSmartersPro
        .meta()
        .catalog
        .iter()
        .map(|r| r.code.to_owned())
        .chain(["STATUTORY_WITHDRAWAL_RIGHT".to_owned()])
        .collect();
    let unreached: Vec<_> = catalog.difference(&codes).collect();
    assert!(unreached.is_empty(), "codes the sample never reached: {unreached:?}");
    eprintln!("{count} generated claims agree; {} reason codes reached", codes.len());
}
