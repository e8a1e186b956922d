//! The tonic implementation of `refund.eligibility.v1.EligibilityService`:
//! decode, call the engine, encode, and tell the call's observer (the
//! request's [`CallFacts`], when the telemetry layer put one there) what it
//! learned: the policy and the decision, as domain values.

use chrono::{DateTime, Utc};
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::decision_id::{Canonical, ENGINE_VERSION};
use super::decode::{self, RequestError};
use super::encode;
use super::pb;
use super::pb::eligibility_service_server::EligibilityService;
use crate::domain::claim::Language;
use crate::domain::decision::Outcome;
use crate::engine;
use crate::observe::CallFacts;
use crate::policies::PolicyId;

/// The service; stateless: every answer is a function of the request and,
/// where the request leaves them unset, the server clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct EligibilityApi;

impl From<RequestError> for Status {
    fn from(e: RequestError) -> Status {
        match &e {
            RequestError::Invalid(violations) => {
                let mut details = ErrorDetails::new();
                for v in violations {
                    details.add_bad_request_violation(v.field.clone(), v.description.clone());
                }
                Status::with_error_details(Code::InvalidArgument, e.to_string(), details)
            }
            RequestError::PolicyNotFound(_) => Status::not_found(e.to_string()),
        }
    }
}

/// EvaluateClaim from wire message to wire message; `now` stands in for an
/// unset `evaluated_at`. Shared by the gRPC service, the CLI and the tests.
pub fn evaluate(
    request: pb::EvaluateClaimRequest,
    now: DateTime<Utc>,
) -> Result<pb::EvaluateClaimResponse, RequestError> {
    decide(request, now).map(|decided| decided.response)
}

/// A decided claim: the answer, and what the observer records of it.
struct Decided {
    outcome: Outcome,
    policy: PolicyId,
    response: pb::EvaluateClaimResponse,
}

/// [`evaluate`], also handing back the domain decision for the observer.
fn decide(mut request: pb::EvaluateClaimRequest, now: DateTime<Utc>) -> Result<Decided, RequestError> {
    let canonical = Canonical::of_request(&mut request, now);
    let input = decode::decode_evaluate(request, now)?;
    let outcome = engine::evaluate(input.policy, &input.request);
    let meta = input.policy.meta();
    let id = canonical.finish(meta);
    let lang = encode::language(input.language, meta);
    let mut response = encode::evaluate_response(&outcome, meta, lang, input.request_id, input.request.evaluated_at);
    response.decision_id = id.to_string();
    response.engine_version = ENGINE_VERSION.to_owned();
    Ok(Decided {
        outcome,
        policy: input.policy,
        response,
    })
}

/// The call's observer slot, if the telemetry layer installed one.
fn observer<T>(request: &Request<T>) -> Option<CallFacts> {
    request.extensions().get::<CallFacts>().cloned()
}

/// The policy a request names, for the observer: reported before decoding
/// so that a call refused as invalid is still logged under its policy (a
/// lookup of one field, not a second decode).
fn named_policy(policy_id: &str) -> Option<PolicyId> {
    PolicyId::from_id(policy_id)
}

/// QuoteRefund from wire message to wire message; `now` stands in for an unset `as_of`.
pub fn quote(request: pb::QuoteRefundRequest, now: DateTime<Utc>) -> Result<pb::QuoteRefundResponse, RequestError> {
    let input = decode::decode_quote(request, now)?;
    let quote = engine::quote(input.policy, &input.request);
    let meta = input.policy.meta();
    Ok(encode::quote_response(
        &quote,
        meta,
        encode::language(input.language, meta),
    ))
}

#[tonic::async_trait]
impl EligibilityService for EligibilityApi {
    async fn evaluate_claim(
        &self,
        request: Request<pb::EvaluateClaimRequest>,
    ) -> Result<Response<pb::EvaluateClaimResponse>, Status> {
        let observer = observer(&request);
        let message = request.into_inner();
        if let Some(facts) = &observer {
            facts.set_request_id(&message.request_id);
            facts.set_policy(named_policy(&message.policy_id));
        }
        let decided = decide(message, Utc::now())?;
        if let Some(facts) = &observer {
            let amount = decided
                .response
                .refund_amount
                .as_ref()
                .map_or("", |m| m.amount.as_str());
            facts.set_decided(
                &decided.outcome,
                decided.policy.meta(),
                &decided.response.decision_id,
                amount,
            );
        }
        Ok(Response::new(decided.response))
    }

    async fn quote_refund(
        &self,
        request: Request<pb::QuoteRefundRequest>,
    ) -> Result<Response<pb::QuoteRefundResponse>, Status> {
        let observer = observer(&request);
        let message = request.into_inner();
        if let Some(facts) = &observer {
            facts.set_policy(named_policy(&message.policy_id));
        }
        Ok(Response::new(quote(message, Utc::now())?))
    }

    async fn list_policies(
        &self,
        request: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::ListPoliciesResponse>, Status> {
        let lang = Language::from_tag(&request.get_ref().locale);
        Ok(Response::new(encode::list_policies_response(lang)))
    }
}
