//! The names the edge's conversions had before they split by direction,
//! kept for the code outside the crate that still imports them from here.
//! New code imports [`super::decode`] and [`super::encode`].

pub use super::decode::{decode_evaluate, decode_quote, EvaluateInput, FieldViolation, QuoteInput, RequestError};
pub use super::encode::{
    evaluate_response, language, list_policies_response, money, policy_ref, quote_response, timestamp,
};
