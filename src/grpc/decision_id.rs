//! The content-addressed decision id (`EvaluateClaimResponse.decision_id`):
//! SHA-256 over a canonical encoding of everything that decides the answer.
//! The proto comment on the field is the specification; this is the one
//! implementation of it in the service.
//!
//! prost encodes a message's fields in field-number order, omits proto3
//! fields at their default, writes `optional` and message fields whenever
//! they are set, and keeps no unknown fields; EvaluateClaimRequest has no
//! maps and no packed repeated fields. Its encoding is therefore the
//! deterministic one another implementation produces
//! (`SerializeToString(deterministic=True)` in Python, `Deterministic: true`
//! in Go), which `interop/test_interop.py` checks.

use std::cell::Cell;

use chrono::{DateTime, Utc};
use prost::Message;
use ring::digest::{digest, SHA256};

use super::encode;
use super::pb;
use crate::domain::decision::DecisionId;
use crate::policies::{PolicyMeta, RULES_EDITION};

/// The version of the service that decides, part of every decision id.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The canonical bytes so far, the request's part alone: the policy's
/// version is known only once the request has been decoded. The digest is
/// taken once over all the parts, in one buffer (one `digest` call costs
/// less than a context fed part by part), the thread's reused scratch.
pub struct Canonical(Vec<u8>);

/// Room for the four short parts after the request: policy id, version,
/// rules edition and engine version, each with its length.
const TAIL: usize = 4 * 8 + 96;

impl Canonical {
    /// Starts the canonical bytes with `request`, `evaluated_at` resolved to
    /// `now` where unset and without `request_id`, `locale` and `explain`,
    /// which only correlate, translate and show how the decision was made.
    /// `request` is handed back as it came, except that an unset
    /// `evaluated_at` is now `now`, which decodes to the same instant.
    pub fn of_request(request: &mut pb::EvaluateClaimRequest, now: DateTime<Utc>) -> Canonical {
        if request.evaluated_at.is_none() {
            request.evaluated_at = Some(encode::timestamp(now));
        }
        let request_id = std::mem::take(&mut request.request_id);
        let locale = std::mem::take(&mut request.locale);
        // The trace flag changes what is shown, not what is decided.
        let explain = std::mem::take(&mut request.explain);
        let len = request.encoded_len();
        let mut bytes = SCRATCH.take();
        bytes.clear();
        bytes.reserve(8 + len + TAIL);
        bytes.extend_from_slice(&(len as u64).to_be_bytes());
        // Encoding into a buffer with room for the message cannot fail.
        let _ = request.encode(&mut bytes);
        request.request_id = request_id;
        request.locale = locale;
        request.explain = explain;
        Canonical(bytes)
    }

    /// Completes the bytes with the policy, its version, the rules edition
    /// and the engine version, and digests them.
    pub fn finish(mut self, policy: &PolicyMeta) -> DecisionId {
        // (`self` goes back to the thread's scratch slot when dropped.)
        for part in [policy.id, policy.version, RULES_EDITION, ENGINE_VERSION] {
            put(&mut self.0, part.as_bytes());
        }
        let digest = digest(&SHA256, &self.0);
        let mut id = [0u8; 32];
        for (out, byte) in id.iter_mut().zip(digest.as_ref()) {
            *out = *byte;
        }
        DecisionId(id)
    }
}

thread_local! {
    /// The canonical bytes' buffer, reused from call to call on a thread.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// A buffer larger than this (a request near the message size limit) is
/// not kept for the next call.
const SCRATCH_KEPT: usize = 4096;

impl Drop for Canonical {
    fn drop(&mut self) {
        if self.0.capacity() <= SCRATCH_KEPT {
            SCRATCH.set(std::mem::take(&mut self.0));
        }
    }
}

/// One part: its length as a big-endian u64, then its bytes, so that no two
/// sequences of parts encode alike.
fn put(bytes: &mut Vec<u8>, part: &[u8]) {
    bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
    bytes.extend_from_slice(part);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::PolicyId;

    fn request() -> pb::EvaluateClaimRequest {
        pb::EvaluateClaimRequest {
            policy_id: "iptv-smarters-pro".into(),
            locale: "fr".into(),
            request_id: "req-1".into(),
            ..Default::default()
        }
    }

    fn id(mut request: pb::EvaluateClaimRequest, now: DateTime<Utc>) -> String {
        let meta = PolicyId::IptvSmartersPro.meta();
        Canonical::of_request(&mut request, now).finish(meta).to_string()
    }

    #[test]
    fn the_id_is_lowercase_hex_sha256_of_the_documented_bytes() {
        let now = DateTime::from_timestamp(1_780_000_000, 5).unwrap();
        let mut cleared = request();
        cleared.request_id.clear();
        cleared.locale.clear();
        cleared.explain = false;
        cleared.evaluated_at = Some(encode::timestamp(now));
        let mut bytes = Vec::new();
        let meta = PolicyId::IptvSmartersPro.meta();
        for part in [
            cleared.encode_to_vec().as_slice(),
            meta.id.as_bytes(),
            meta.version.as_bytes(),
            RULES_EDITION.as_bytes(),
            ENGINE_VERSION.as_bytes(),
        ] {
            bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
            bytes.extend_from_slice(part);
        }
        let expected: String = digest(&SHA256, &bytes)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(id(request(), now), expected);
        assert_eq!(expected.len(), 64);
    }

    #[test]
    fn correlation_and_language_do_not_change_the_id_and_the_request_is_handed_back() {
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let mut other = request();
        other.request_id = "another".into();
        other.locale = "en".into();
        assert_eq!(id(request(), now), id(other, now));

        let mut kept = request();
        let _ = Canonical::of_request(&mut kept, now);
        assert_eq!(kept.request_id, "req-1");
        assert_eq!(kept.locale, "fr");
        assert_eq!(kept.evaluated_at, Some(encode::timestamp(now)));

        let later = DateTime::from_timestamp(1_780_000_001, 0).unwrap();
        assert_ne!(id(request(), now), id(request(), later), "the instant decides");
    }
}
