//! The tonic implementation of `refund.eligibility.v1.EligibilityService`:
//! decode, call the engine, encode, and tell the call's observer (the
//! request's [`CallFacts`], when the telemetry layer put one there) what it
//! learned: the policy and the decision, as domain values.

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tonic::{Code, Request, Response, Status, Streaming};
use tonic_types::{ErrorDetails, StatusExt};

use super::answer::{Answer, EvaluateClaimAnswer};
use super::decision_id::Canonical;
use super::decode::{self, RequestError};
use super::encode;
use super::pb;
use super::pb::served::eligibility_service_server::EligibilityService;
use super::stream::{self, AnswerStream, StreamLimits};
use crate::domain::claim::Language;
use crate::domain::trace::Recorder;
use crate::engine;
use crate::observe::CallFacts;
use crate::policies::PolicyId;

/// The service; stateless: every answer is a function of the request and,
/// where the request leaves them unset, the server clock. It holds only the
/// bounds of EvaluateClaims streams and the server's drain signal, which
/// ends open streams.
#[derive(Clone, Debug)]
pub struct EligibilityApi {
    limits: StreamLimits,
    drain: watch::Receiver<bool>,
}

impl Default for EligibilityApi {
    /// Default stream limits, never draining.
    fn default() -> Self {
        EligibilityApi::new(StreamLimits::default(), watch::channel(false).1)
    }
}

impl EligibilityApi {
    /// Streams bounded by `limits`; `drain` turning true ends open streams.
    pub fn new(limits: StreamLimits, drain: watch::Receiver<bool>) -> Self {
        EligibilityApi { limits, drain }
    }
}

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
    decide(request, now).map(|decided| decided.answer.into_message())
}

/// [`evaluate`], the answer before it is written: `Answer::encode` gives
/// the bytes the unary RPC sends, `Answer::into_message` the owned message.
pub fn evaluate_answer(request: pb::EvaluateClaimRequest, now: DateTime<Utc>) -> Result<Answer, RequestError> {
    decide(request, now).map(|decided| decided.answer)
}

/// A decided claim: the answer, and the policy the observer records.
pub(super) struct Decided {
    pub(super) policy: PolicyId,
    pub(super) answer: Answer,
}

/// [`evaluate`], the answer still in its encode-only form (what the unary
/// RPC sends; the stream and the CLI turn it into the owned message).
pub(super) fn decide(mut request: pb::EvaluateClaimRequest, now: DateTime<Utc>) -> Result<Decided, RequestError> {
    let canonical = Canonical::of_request(&mut request, now);
    let input = decode::decode_evaluate(request, now)?;
    let meta = input.policy.meta();
    let id = canonical.finish(meta);
    let lang = encode::language(input.language, meta);
    // The trace is recorded only on request: without it the engine runs with
    // the no-op tracer, which compiles away.
    let (outcome, trace) = if input.explain {
        let mut recorder = Recorder::new();
        let outcome = engine::evaluate_traced(input.policy, &input.request, &mut recorder);
        (outcome, encode::trace(&recorder, lang))
    } else {
        (engine::evaluate(input.policy, &input.request), Vec::new())
    };
    let evaluated_at = input.request.evaluated_at;
    Ok(Decided {
        policy: input.policy,
        answer: Answer::new(outcome, meta, lang, input.request_id, evaluated_at, id, trace),
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
    ) -> Result<Response<EvaluateClaimAnswer>, Status> {
        let observer = observer(&request);
        let message = request.into_inner();
        if let Some(facts) = &observer {
            facts.set_request_id(&message.request_id);
            facts.set_policy(named_policy(&message.policy_id));
        }
        let decided = decide(message, Utc::now())?;
        if let Some(facts) = &observer {
            let answer = &decided.answer;
            facts.set_decided(
                answer.outcome(),
                decided.policy.meta(),
                answer.decision_id().hex().as_str(),
                answer.amount().as_str(),
            );
        }
        Ok(Response::new(decided.answer.encode()))
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

    type EvaluateClaimsStream = AnswerStream;

    async fn evaluate_claims(
        &self,
        request: Request<Streaming<pb::EvaluateClaimRequest>>,
    ) -> Result<Response<Self::EvaluateClaimsStream>, Status> {
        let observer = observer(&request);
        Ok(Response::new(stream::evaluate_claims(
            request.into_inner(),
            self.limits,
            self.drain.clone(),
            observer,
        )))
    }
}
