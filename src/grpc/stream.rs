//! EvaluateClaims: many claims over one stream, one answer per request in
//! request order. Each item goes through the same decode, engine and encode
//! as a unary EvaluateClaim; a bad item is answered with the status the
//! unary call would fail with (as a `google.rpc.Status`) and the stream goes
//! on.
//!
//! Backpressure: one task per stream reads a request, answers it and puts
//! the answer in a channel of `window` places that the response body drains.
//! When the client stops reading, the channel fills, the task stops reading
//! requests, and HTTP/2 flow control stops the client: the server holds at
//! most `window` answers (plus what the transport's own windows hold).

use chrono::Utc;
use prost::Message;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status, Streaming};

use super::decode::RequestError;
use super::pb;
use super::service::decide;
use crate::observe::{CallFacts, DecisionTally};

/// The bounds of one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Answers the server holds ahead of the client's reading (at least 1).
    pub window: usize,
    /// Requests one stream may carry; the next one ends the stream with
    /// RESOURCE_EXHAUSTED.
    pub max_items: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            window: 256,
            max_items: 1_000_000,
        }
    }
}

/// The trailer naming the last answered index when a stream is cut short.
pub const LAST_INDEX_TRAILER: &str = "x-last-index";

/// Items between two reports to the call's observer (metrics move as a long
/// stream goes, without a lock per item).
const REPORT_EVERY: u64 = 1024;

/// The response stream of EvaluateClaims.
pub type AnswerStream = ReceiverStream<Result<pb::EvaluateClaimsResponse, Status>>;

/// Starts answering `requests`; `drain` turning true stops the reading (the
/// server is shutting down).
pub fn evaluate_claims(
    requests: Streaming<pb::EvaluateClaimRequest>,
    limits: StreamLimits,
    drain: watch::Receiver<bool>,
    observer: Option<CallFacts>,
) -> AnswerStream {
    let (tx, rx) = mpsc::channel(limits.window.max(1));
    tokio::spawn(answer_all(requests, tx, limits, drain, observer));
    ReceiverStream::new(rx)
}

/// Completes once `drain` is true; never, if the server drops its sender.
async fn draining(drain: &mut watch::Receiver<bool>) {
    if drain.wait_for(|d| *d).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn answer_all(
    mut requests: Streaming<pb::EvaluateClaimRequest>,
    tx: mpsc::Sender<Result<pb::EvaluateClaimsResponse, Status>>,
    limits: StreamLimits,
    mut drain: watch::Receiver<bool>,
    observer: Option<CallFacts>,
) {
    let mut report = Report::default();
    let mut index: u64 = 0;
    let end = loop {
        // None: the drain started.
        let next = tokio::select! {
            biased;
            () = draining(&mut drain) => None,
            message = requests.message() => Some(message),
        };
        let request = match next {
            Some(Ok(Some(request))) => request,
            Some(Ok(None)) => break None,
            Some(Err(status)) => break Some(status),
            None => {
                break Some(cut_short(
                    Code::Unavailable,
                    "the server is shutting down".to_owned(),
                    index,
                ))
            }
        };
        if index >= limits.max_items {
            break Some(cut_short(
                Code::ResourceExhausted,
                format!("a stream carries at most {} items", limits.max_items),
                index,
            ));
        }
        let answer = answer(index, request, &mut report);
        if tx.send(Ok(answer)).await.is_err() {
            // The client went away; nobody is left to answer.
            break None;
        }
        index += 1;
        if report.items >= REPORT_EVERY {
            report.flush(observer.as_ref());
        }
    };
    report.flush(observer.as_ref());
    if let Some(status) = end {
        let _ = tx.send(Err(status)).await;
    }
}

/// The answer to the request at `index`.
fn answer(index: u64, request: pb::EvaluateClaimRequest, report: &mut Report) -> pb::EvaluateClaimsResponse {
    report.items += 1;
    let result = match decide(request, Utc::now()) {
        Ok(decided) => {
            report.decisions.add(decided.policy, decided.answer.outcome().decision);
            pb::evaluate_claims_response::Result::Response(decided.answer.into_message())
        }
        Err(e) => {
            report.errors += 1;
            pb::evaluate_claims_response::Result::Error(item_status(e))
        }
    };
    pb::EvaluateClaimsResponse {
        index,
        result: Some(result),
    }
}

/// The `google.rpc.Status` a unary call failing with `e` carries in its
/// `grpc-status-details-bin` trailer (code, message and BadRequest details);
/// for an error without details, its code and message.
pub fn item_status(e: RequestError) -> tonic_types::Status {
    let status = Status::from(e);
    match tonic_types::Status::decode(status.details()) {
        Ok(rpc) if !status.details().is_empty() => rpc,
        _ => tonic_types::Status {
            code: status.code() as i32,
            message: status.message().to_owned(),
            details: Vec::new(),
        },
    }
}

/// The status that ends a stream before its client finished it: `why`, and
/// the last answered index in the message and the `x-last-index` trailer
/// (neither when no item was answered).
fn cut_short(code: Code, why: String, answered: u64) -> Status {
    match answered.checked_sub(1) {
        Some(last) => {
            let mut status = Status::new(code, format!("{why}; last answered index {last}"));
            status
                .metadata_mut()
                .insert(LAST_INDEX_TRAILER, MetadataValue::from(last));
            status
        }
        None => Status::new(code, format!("{why}; no item answered")),
    }
}

/// What the stream answered since its last report to the observer.
#[derive(Default)]
struct Report {
    items: u64,
    errors: u64,
    decisions: DecisionTally,
}

impl Report {
    fn flush(&mut self, observer: Option<&CallFacts>) {
        let report = std::mem::take(self);
        if let Some(facts) = observer {
            facts.add_stream_items(report.items, report.errors, report.decisions);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_errors_are_what_the_unary_call_sends() {
        let invalid = RequestError::Invalid(vec![crate::grpc::decode::FieldViolation {
            field: "purchase.price".into(),
            description: "must be set".into(),
        }]);
        let unary = Status::from(RequestError::Invalid(vec![crate::grpc::decode::FieldViolation {
            field: "purchase.price".into(),
            description: "must be set".into(),
        }]));
        let item = item_status(invalid);
        assert_eq!(item.code, Code::InvalidArgument as i32);
        assert_eq!(item.message, unary.message());
        assert_eq!(item.encode_to_vec(), unary.details().to_vec());
        assert_eq!(item.details.len(), 1);

        let missing = item_status(RequestError::PolicyNotFound("nope".into()));
        assert_eq!(missing.code, Code::NotFound as i32);
        assert!(missing.message.contains("\"nope\""), "{}", missing.message);
    }

    #[test]
    fn a_stream_cut_short_names_its_last_answered_index() {
        let status = cut_short(Code::Unavailable, "draining".into(), 42);
        assert_eq!(status.code(), Code::Unavailable);
        assert!(
            status.message().ends_with("last answered index 41"),
            "{}",
            status.message()
        );
        assert_eq!(
            status.metadata().get(LAST_INDEX_TRAILER).and_then(|v| v.to_str().ok()),
            Some("41")
        );
        let none = cut_short(Code::ResourceExhausted, "too long".into(), 0);
        assert!(none.metadata().get(LAST_INDEX_TRAILER).is_none());
    }
}
