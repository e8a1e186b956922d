//! The unary EvaluateClaim answer, encoded straight from the decision.
//!
//! [`Answer`] is the engine's [`Outcome`] and what frames it (policy,
//! language, request id, instant, decision id, trace). [`Answer::encode`]
//! writes `EvaluateClaimResponse`'s wire form from it into one buffer, the
//! [`EvaluateClaimAnswer`] the server sends: the reason codes, clauses and
//! messages, the policy reference and the engine version are written from
//! the policies' `&'static str` texts, and the explanation straight into
//! the buffer, instead of each being copied into an owned `String` of a
//! `pb::EvaluateClaimResponse` first. The bytes are those of the
//! `pb::EvaluateClaimResponse` that [`Answer::into_message`] builds for the
//! same decision (fields in tag order, proto3 defaults omitted,
//! `consequences` packed, minimal varints), which `tests/answer_bytes.rs`
//! checks over the case corpus and `tests/bulk_stream.rs` over the wire:
//! EvaluateClaims items are built the other way and must equal the unary
//! answers byte for byte.
//!
//! The server's generated code takes [`EvaluateClaimAnswer`] as
//! EvaluateClaim's response (build.rs maps the message to it for the
//! server only); the client, the CLI and the stream use
//! `pb::EvaluateClaimResponse`.

use chrono::{DateTime, Utc};
use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, DecodeContext, WireType};
use prost::DecodeError;

use super::decision_id::ENGINE_VERSION;
use super::encode;
use super::pb;
use crate::domain::claim::Language;
use crate::domain::decision::{DecisionId, Outcome, Reason};
use crate::domain::money::Money;
use crate::i18n;
use crate::policies::{PolicyMeta, RULES_EDITION};

/// One decided claim, before it is written.
#[derive(Clone, Debug)]
pub struct Answer {
    outcome: Outcome,
    meta: &'static PolicyMeta,
    lang: Language,
    request_id: String,
    evaluated_at: DateTime<Utc>,
    decision_id: DecisionId,
    trace: Vec<pb::RuleTrace>,
}

impl Answer {
    pub fn new(
        outcome: Outcome,
        meta: &'static PolicyMeta,
        lang: Language,
        request_id: String,
        evaluated_at: DateTime<Utc>,
        decision_id: DecisionId,
        trace: Vec<pb::RuleTrace>,
    ) -> Answer {
        Answer {
            outcome,
            meta,
            lang,
            request_id,
            evaluated_at,
            decision_id,
            trace,
        }
    }

    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    pub fn decision_id(&self) -> DecisionId {
        self.decision_id
    }

    /// The refund amount's digits, as the answer carries them.
    pub fn amount(&self) -> Digits {
        Digits::of(self.outcome.refund_amount)
    }

    /// The answer as an owned message (the CLI's and the stream's form).
    pub fn into_message(self) -> pb::EvaluateClaimResponse {
        let mut response =
            encode::evaluate_response(&self.outcome, self.meta, self.lang, self.request_id, self.evaluated_at);
        response.trace = self.trace;
        response.decision_id = self.decision_id.to_string();
        response.engine_version = ENGINE_VERSION.to_owned();
        response
    }

    /// The answer's wire form, every field in tag order, in one buffer.
    pub fn encode(&self) -> EvaluateClaimAnswer {
        let o = &self.outcome;
        let lang = self.lang;
        // Most answers take 300 to 700 bytes; a trace, a few more KiB.
        let mut out = Vec::with_capacity(if self.trace.is_empty() { 1024 } else { 4096 });
        let w = &mut out;
        enumeration(w, 1, pb::Decision::from(o.decision) as i32);
        message(w, 2, |w| money(w, o.refund_amount));
        enumeration(w, 3, pb::RefundMethod::from(o.refund_method) as i32);
        for c in o.alternatives.iter() {
            message(w, 4, |w| {
                enumeration(w, 1, pb::CompensationKind::from(c.kind) as i32);
                uint(w, 2, u64::from(c.extension_days));
                // bonus_days (3) is always 0.
                boolean(w, 4, c.bonus_negotiable);
                if let Some(amount) = c.amount {
                    message(w, 5, |w| money(w, amount));
                }
                string(w, 6, &i18n::compensation(&c, lang));
            });
        }
        for r in o.reasons.iter() {
            message(w, 5, |w| reason(w, r, lang));
        }
        for f in o.missing_information.iter() {
            // A repeated string writes every element, an empty one too.
            key(w, 6, WireType::LengthDelimited);
            bytes(w, f.path().as_bytes());
        }
        if let Some(t) = o.resubmit_after {
            message(w, 7, |w| timestamp(w, t));
        }
        if let Some(t) = o.claim_deadline {
            message(w, 8, |w| timestamp(w, t));
        }
        let t = &o.timeline;
        if t.acknowledge_by.is_some() || t.decide_by.is_some() || t.funds_earliest.is_some() || t.funds_latest.is_some()
        {
            message(w, 9, |w| {
                for (tag, at) in [
                    (1, t.acknowledge_by),
                    (2, t.decide_by),
                    (3, t.funds_earliest),
                    (4, t.funds_latest),
                ] {
                    if let Some(at) = at {
                        message(w, tag, |w| timestamp(w, at));
                    }
                }
            });
        }
        if !o.consequences.is_empty() {
            // Packed, as proto3 encodes a repeated enum.
            message(w, 10, |w| {
                for c in o.consequences.iter() {
                    encoding::encode_varint(i64::from(pb::Consequence::from(c) as i32) as u64, w);
                }
            });
        }
        message(w, 11, |w| {
            string(w, 1, self.meta.id);
            string(w, 2, self.meta.version);
            string(w, 3, self.meta.title);
            string(w, 4, RULES_EDITION);
        });
        // The explanation is never empty: the decision's phrase starts it.
        message(w, 12, |w| {
            // Writing to a Vec cannot fail.
            let _ = i18n::write_explanation(&mut Utf8(w), o, lang);
        });
        string(w, 13, &self.request_id);
        message(w, 14, |w| timestamp(w, self.evaluated_at));
        string(w, 15, self.decision_id.hex().as_str());
        for entry in &self.trace {
            message(w, 16, |w| {
                string(w, 1, &entry.rule);
                string(w, 2, &entry.clause);
                boolean(w, 3, entry.matched);
                boolean(w, 4, entry.decisive);
                string(w, 5, &entry.detail);
                string(w, 6, &entry.reason_code);
            });
        }
        string(w, 17, ENGINE_VERSION);
        EvaluateClaimAnswer(out)
    }
}

/// The EvaluateClaim answer as the server sends it: an
/// `EvaluateClaimResponse`'s bytes. Encode-only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvaluateClaimAnswer(Vec<u8>);

impl prost::Message for EvaluateClaimAnswer {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    /// Encode-only: the server never decodes its own answer; a field is
    /// skipped.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// `fmt::Write` into the wire buffer.
struct Utf8<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Utf8<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn key(w: &mut Vec<u8>, tag: u32, wire_type: WireType) {
    encoding::encode_key(tag, wire_type, w);
}

fn bytes(w: &mut Vec<u8>, value: &[u8]) {
    encoding::encode_varint(value.len() as u64, w);
    w.extend_from_slice(value);
}

/// A proto3 string field: nothing when empty.
fn string(w: &mut Vec<u8>, tag: u32, value: &str) {
    if !value.is_empty() {
        key(w, tag, WireType::LengthDelimited);
        bytes(w, value.as_bytes());
    }
}

/// An enum or int32 field: nothing at 0; a negative value as ten bytes.
fn enumeration(w: &mut Vec<u8>, tag: u32, value: i32) {
    if value != 0 {
        key(w, tag, WireType::Varint);
        encoding::encode_varint(i64::from(value) as u64, w);
    }
}

fn uint(w: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        key(w, tag, WireType::Varint);
        encoding::encode_varint(value, w);
    }
}

fn boolean(w: &mut Vec<u8>, tag: u32, value: bool) {
    if value {
        key(w, tag, WireType::Varint);
        w.push(1);
    }
}

/// A length-delimited field written in one pass: its content is written
/// after a one-byte length, which is widened (the content moved up) in the
/// rare case the content is 128 bytes or more, so that the length is the
/// minimal varint prost writes.
fn message(w: &mut Vec<u8>, tag: u32, fields: impl FnOnce(&mut Vec<u8>)) {
    key(w, tag, WireType::LengthDelimited);
    let at = w.len();
    w.push(0);
    fields(w);
    let len = w.len() - at - 1;
    if let Ok(small @ 0..=127) = u8::try_from(len) {
        if let Some(slot) = w.get_mut(at) {
            *slot = small;
        }
    } else {
        let mut prefix = [0u8; 10];
        let mut rest = &mut prefix[..];
        encoding::encode_varint(len as u64, &mut rest);
        let written = 10 - rest.len();
        w.splice(at..=at, prefix.iter().take(written).copied());
    }
}

fn money(w: &mut Vec<u8>, m: Money) {
    string(w, 1, m.currency().code());
    string(w, 2, Digits::of(m).as_str());
}

fn reason(w: &mut Vec<u8>, r: Reason, lang: Language) {
    string(w, 1, r.code);
    string(w, 2, r.clause);
    string(w, 3, r.message(lang));
}

fn timestamp(w: &mut Vec<u8>, t: DateTime<Utc>) {
    let t = encode::timestamp(t);
    if t.seconds != 0 {
        key(w, 1, WireType::Varint);
        encoding::encode_varint(t.seconds as u64, w);
    }
    enumeration(w, 2, t.nanos);
}

/// An amount's digits, written on the stack.
pub struct Digits {
    buf: [u8; 48],
    len: usize,
}

impl Default for Digits {
    fn default() -> Digits {
        Digits { buf: [0; 48], len: 0 }
    }
}

impl Digits {
    fn of(m: Money) -> Digits {
        let mut digits = Digits::default();
        // Money's digits fit the buffer (at most 29 digits, a point and a sign).
        let _ = std::fmt::Write::write_fmt(&mut digits, format_args!("{m}"));
        digits
    }

    pub fn as_str(&self) -> &str {
        self.buf
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }
}

impl std::fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
