//! The proto3 JSON mapping of the JSON-lines hot path, straight between
//! text and the prost structs: EvaluateClaimRequest and QuoteRefundRequest
//! (with their nested messages) read, EvaluateClaimResponse and
//! QuoteRefundResponse written. No `DynamicMessage`, no transcoding: for the
//! messages it knows, it accepts and produces what the reflection path of
//! [`super`] does (prost-reflect 0.16's serde mapping), to the byte:
//!
//! - reading: a field by its proto name or its JSON (lowerCamelCase) name,
//!   the last occurrence winning; `null` leaves a field as it was; an
//!   unknown field is an error; enums by name or by any 32-bit number;
//!   uint32 as a number (an integral float too) or a decimal string;
//!   Timestamp as strict RFC 3339, Duration as `"1.5s"`, both range-checked;
//! - writing: proto field names in field number order, fields at their
//!   default value left out, a set message written even when empty, enums by
//!   name (an unknown number as a number), Timestamp in RFC 3339 with 0, 3,
//!   6 or 9 fractional digits, strings escaped as serde_json escapes them;
//!   written straight into the caller's buffer, on one line.
//!
//! Any failure (a read error, a timestamp out of range on writing) is meant
//! to be redone on the reflection path, whose error message is the one
//! shown: the messages of this module are not.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use crate::grpc::pb;

/// A message this module reads.
pub trait Read: Default {
    /// Its fields: (proto name, JSON name); a field's index is its position.
    const FIELDS: &'static [(&'static str, &'static str)];
    /// Reads the value of field `index` into `self`.
    fn read_field<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error>;
}

/// A message this module writes.
pub trait Write {
    /// Writes the fields that are not at their default value, in field number order.
    fn write_fields(&self, object: &mut Object<'_>) -> Result<(), WriteError>;
}

/// Reads a `T` from one JSON document; the error says only that it failed.
pub fn parse<T: Read>(json: &str) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let message = MessageSeed::<T>(PhantomData).deserialize(&mut de)?;
    de.end()?;
    Ok(message)
}

/// Appends `message` to `out` as compact JSON (no newline), as serde_json
/// writes it. On an error, what was appended is removed.
pub fn write_line<T: Write>(message: &T, out: &mut Vec<u8>) -> Result<(), WriteError> {
    let start = out.len();
    let written = object(out, message);
    if written.is_err() {
        out.truncate(start);
    }
    written
}

// ---------------------------------------------------------------- reading

struct MessageSeed<T>(PhantomData<T>);

impl<'de, T: Read> DeserializeSeed<'de> for MessageSeed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Read> Visitor<'de> for MessageSeed<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut message = T::default();
        while let Some(index) = map.next_key_seed(FieldSeed(T::FIELDS))? {
            message.read_field(index, &mut map)?;
        }
        Ok(message)
    }
}

/// A `null` message value leaves the field as it was; otherwise the field
/// is replaced by the message read.
struct OptionalMessage<T>(PhantomData<T>);

impl<'de, T: Read> DeserializeSeed<'de> for OptionalMessage<T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, T: Read> Visitor<'de> for OptionalMessage<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        MessageSeed(PhantomData).deserialize(deserializer).map(Some)
    }
}

/// A key: the index of the field it names, by proto or JSON name.
struct FieldSeed(&'static [(&'static str, &'static str)]);

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldSeed {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<usize, E> {
        self.0
            .iter()
            .position(|(name, json_name)| *json_name == key || *name == key)
            .ok_or_else(|| E::custom(format_args!("unrecognized field name '{key}'")))
    }
}

/// uint32: a number (an integral float too) or a decimal string.
struct Uint32(u32);

impl<'de> de::Deserialize<'de> for Uint32 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Uint32, D::Error> {
        deserializer.deserialize_any(Uint32Visitor).map(Uint32)
    }
}

struct Uint32Visitor;

impl Visitor<'_> for Uint32Visitor {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a 32-bit unsigned integer or decimal string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
        v.try_into().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
        v.try_into().map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u32, E> {
        if v.fract() != 0.0 {
            return Err(E::custom("expected integer value"));
        }
        if v < f64::from(u32::MIN) || v > f64::from(u32::MAX) {
            return Err(E::custom("float value out of range"));
        }
        Ok(v as u32)
    }
}

/// A generated enum, by its proto names.
pub trait ProtoEnum {
    /// The value's name, None for a number the enum does not define.
    fn name(number: i32) -> Option<&'static str>;
    /// The number of the value named `name`.
    fn number(name: &str) -> Option<i32>;
}

macro_rules! proto_enums {
    ($($t:ty),* $(,)?) => {$(
        impl ProtoEnum for $t {
            fn name(number: i32) -> Option<&'static str> {
                <$t>::try_from(number).ok().map(|e| e.as_str_name())
            }
            fn number(name: &str) -> Option<i32> {
                <$t>::from_str_name(name).map(|e| e as i32)
            }
        }
    )*};
}

proto_enums!(
    pb::CustomerType,
    pb::PriceType,
    pb::PaymentMethod,
    pb::ClaimReason,
    pb::IssueCause,
    pb::OutageScope,
    pb::Decision,
    pb::RefundMethod,
    pb::CompensationKind,
    pb::Consequence,
    pb::RefundBasis,
);

/// An enum: a value's name, or any 32-bit number.
struct Enum<E>(i32, PhantomData<E>);

impl<'de, E: ProtoEnum> de::Deserialize<'de> for Enum<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Enum<E>, D::Error> {
        deserializer
            .deserialize_any(EnumVisitor::<E>(PhantomData))
            .map(|n| Enum(n, PhantomData))
    }
}

struct EnumVisitor<E>(PhantomData<E>);

impl<E: ProtoEnum> Visitor<'_> for EnumVisitor<E> {
    type Value = i32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or integer")
    }

    fn visit_str<Er: de::Error>(self, v: &str) -> Result<i32, Er> {
        E::number(v).ok_or_else(|| Er::custom(format_args!("unrecognized enum value '{v}'")))
    }

    fn visit_i64<Er: de::Error>(self, v: i64) -> Result<i32, Er> {
        v.try_into().map_err(Er::custom)
    }

    fn visit_u64<Er: de::Error>(self, v: u64) -> Result<i32, Er> {
        v.try_into().map_err(Er::custom)
    }
}

/// google.protobuf.Timestamp: strict RFC 3339, within years 1 to 9999.
struct Timestamp(prost_types::Timestamp);

impl<'de> de::Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        deserializer.deserialize_str(TimestampVisitor).map(Timestamp)
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = prost_types::Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a rfc3339 timestamp string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<prost_types::Timestamp, E> {
        if !strict_rfc3339(v) {
            return Err(E::custom("invalid rfc3339 timestamp"));
        }
        let timestamp: prost_types::Timestamp = v.parse().map_err(E::custom)?;
        timestamp_in_range(&timestamp).map_err(E::custom)?;
        Ok(timestamp)
    }
}

/// google.protobuf.Duration: `"172800s"`, `"-1.5s"`, within ±10,000 years.
struct Duration(prost_types::Duration);

impl<'de> de::Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_str(DurationVisitor).map(Duration)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = prost_types::Duration;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<prost_types::Duration, E> {
        let duration: prost_types::Duration = v.parse().map_err(E::custom)?;
        if duration.seconds.unsigned_abs() > MAX_DURATION_SECONDS || duration.nanos.unsigned_abs() > MAX_DURATION_NANOS
        {
            return Err(E::custom("duration out of range"));
        }
        Ok(duration)
    }
}

// The bounds prost-reflect checks (the proto3 JSON mapping's ranges).
const MAX_DURATION_SECONDS: u64 = 315_576_000_000;
const MAX_DURATION_NANOS: u32 = 999_999_999;
const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;

fn timestamp_in_range(timestamp: &prost_types::Timestamp) -> Result<(), &'static str> {
    if (MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&timestamp.seconds) {
        Ok(())
    } else {
        Err("timestamp out of range")
    }
}

/// The shape prost-reflect requires before parsing a timestamp:
/// `YYYY-MM-DDTHH:MM:SS`, optional fraction of at least one digit, then `Z`
/// or `±HH:MM`, and nothing after.
fn strict_rfc3339(v: &str) -> bool {
    let mut bytes = v.bytes().peekable();
    let digits = |bytes: &mut std::iter::Peekable<std::str::Bytes<'_>>, n: usize| {
        (0..n).all(|_| bytes.next_if(u8::is_ascii_digit).is_some())
    };
    let char = |bytes: &mut std::iter::Peekable<std::str::Bytes<'_>>, c: u8| bytes.next_if_eq(&c).is_some();
    let shape = digits(&mut bytes, 4)
        && char(&mut bytes, b'-')
        && digits(&mut bytes, 2)
        && char(&mut bytes, b'-')
        && digits(&mut bytes, 2)
        && char(&mut bytes, b'T')
        && digits(&mut bytes, 2)
        && char(&mut bytes, b':')
        && digits(&mut bytes, 2)
        && char(&mut bytes, b':')
        && digits(&mut bytes, 2);
    if !shape {
        return false;
    }
    if char(&mut bytes, b'.') {
        if !digits(&mut bytes, 1) {
            return false;
        }
        while digits(&mut bytes, 1) {}
    }
    let zone = if bytes.next_if(|&c| c == b'+' || c == b'-').is_some() {
        digits(&mut bytes, 2) && char(&mut bytes, b':') && digits(&mut bytes, 2)
    } else {
        char(&mut bytes, b'Z')
    };
    zone && bytes.peek().is_none()
}

/// `map`'s next value, or None for `null`.
fn value<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(map: &mut A) -> Result<Option<T>, A::Error> {
    map.next_value::<Option<T>>()
}

fn string<'de, A: MapAccess<'de>>(map: &mut A, field: &mut String) -> Result<(), A::Error> {
    if let Some(v) = value::<A, String>(map)? {
        *field = v;
    }
    Ok(())
}

fn boolean<'de, A: MapAccess<'de>>(map: &mut A, field: &mut bool) -> Result<(), A::Error> {
    if let Some(v) = value::<A, bool>(map)? {
        *field = v;
    }
    Ok(())
}

fn optional_bool<'de, A: MapAccess<'de>>(map: &mut A, field: &mut Option<bool>) -> Result<(), A::Error> {
    if let Some(v) = value::<A, bool>(map)? {
        *field = Some(v);
    }
    Ok(())
}

fn uint32<'de, A: MapAccess<'de>>(map: &mut A, field: &mut u32) -> Result<(), A::Error> {
    if let Some(Uint32(v)) = value::<A, Uint32>(map)? {
        *field = v;
    }
    Ok(())
}

fn enumeration<'de, E: ProtoEnum, A: MapAccess<'de>>(map: &mut A, field: &mut i32) -> Result<(), A::Error> {
    if let Some(Enum(v, _)) = value::<A, Enum<E>>(map)? {
        *field = v;
    }
    Ok(())
}

fn timestamp<'de, A: MapAccess<'de>>(map: &mut A, field: &mut Option<prost_types::Timestamp>) -> Result<(), A::Error> {
    if let Some(Timestamp(v)) = value::<A, Timestamp>(map)? {
        *field = Some(v);
    }
    Ok(())
}

fn duration<'de, A: MapAccess<'de>>(map: &mut A, field: &mut Option<prost_types::Duration>) -> Result<(), A::Error> {
    if let Some(Duration(v)) = value::<A, Duration>(map)? {
        *field = Some(v);
    }
    Ok(())
}

fn message<'de, T: Read, A: MapAccess<'de>>(map: &mut A, field: &mut Option<T>) -> Result<(), A::Error> {
    if let Some(v) = map.next_value_seed(OptionalMessage::<T>(PhantomData))? {
        *field = Some(v);
    }
    Ok(())
}

/// The error for an index past a message's fields (not reached: indexes come from `FIELDS`).
fn no_field<E: de::Error>(index: usize) -> E {
    E::custom(format_args!("no field {index}"))
}

impl Read for pb::Money {
    const FIELDS: &'static [(&'static str, &'static str)] = &[("currency_code", "currencyCode"), ("amount", "amount")];

    fn read_field<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => string(map, &mut self.currency_code),
            1 => string(map, &mut self.amount),
            _ => Err(no_field(index)),
        }
    }
}

impl Read for pb::Purchase {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("order_id", "orderId"),
        ("amount_paid", "amountPaid"),
        ("purchased_at", "purchasedAt"),
        ("delivered_at", "deliveredAt"),
        ("term_months", "termMonths"),
        ("price_type", "priceType"),
        ("payment_method", "paymentMethod"),
        ("customer_type", "customerType"),
        ("customer_country", "customerCountry"),
        (
            "express_consent_immediate_performance",
            "expressConsentImmediatePerformance",
        ),
        ("invoice_number", "invoiceNumber"),
        ("purchase_email", "purchaseEmail"),
        ("reseller_id", "resellerId"),
        ("transaction_id", "transactionId"),
        ("withdrawal_information_given", "withdrawalInformationGiven"),
    ];

    fn read_field<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => string(map, &mut self.order_id),
            1 => message(map, &mut self.amount_paid),
            2 => timestamp(map, &mut self.purchased_at),
            3 => timestamp(map, &mut self.delivered_at),
            4 => uint32(map, &mut self.term_months),
            5 => enumeration::<pb::PriceType, A>(map, &mut self.price_type),
            6 => enumeration::<pb::PaymentMethod, A>(map, &mut self.payment_method),
            7 => enumeration::<pb::CustomerType, A>(map, &mut self.customer_type),
            8 => string(map, &mut self.customer_country),
            9 => boolean(map, &mut self.express_consent_immediate_performance),
            10 => string(map, &mut self.invoice_number),
            11 => string(map, &mut self.purchase_email),
            12 => string(map, &mut self.reseller_id),
            13 => string(map, &mut self.transaction_id),
            14 => optional_bool(map, &mut self.withdrawal_information_given),
            _ => Err(no_field(index)),
        }
    }
}

impl Read for pb::Outage {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("duration", "duration"),
        ("announced", "announced"),
        ("scope", "scope"),
        ("resolved", "resolved"),
    ];

    fn read_field<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => duration(map, &mut self.duration),
            1 => boolean(map, &mut self.announced),
            2 => enumeration::<pb::OutageScope, A>(map, &mut self.scope),
            3 => boolean(map, &mut self.resolved),
            _ => Err(no_field(index)),
        }
    }
}

impl Read for pb::SupportHistory {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("contacted", "contacted"),
        ("first_contacted_at", "firstContactedAt"),
        ("troubleshooting_completed", "troubleshootingCompleted"),
        ("resolved", "resolved"),
        ("incompatibility_confirmed", "incompatibilityConfirmed"),
        ("compensation_offered", "compensationOffered"),
        ("compensation_declined", "compensationDeclined"),
    ];

    fn read_field<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => boolean(map, &mut self.contacted),
            1 => timestamp(map, &mut self.first_contacted_at),
            2 => boolean(map, &mut self.troubleshooting_completed),
            3 => boolean(map, &mut self.resolved),
            4 => boolean(map, &mut self.incompatibility_confirmed),
            5 => boolean(map, &mut self.compensation_offered),
            6 => boolean(map, &mut self.compensation_declined),
            _ => Err(no_field(index)),
        }
    }
}

impl Read for pb::Claim {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("reason", "reason"),
        ("submitted_at", "submittedAt"),
        ("issue_started_at", "issueStartedAt"),
        ("cause", "cause"),
        ("outage", "outage"),
        ("support", "support"),
        ("description", "description"),
        ("evidence_attachments", "evidenceAttachments"),
        ("charged_amount", "chargedAmount"),
        ("expected_amount", "expectedAmount"),
        ("duplicate_amount", "duplicateAmount"),
        ("device_officially_supported", "deviceOfficiallySupported"),
        ("device_meets_minimum_requirements", "deviceMeetsMinimumRequirements"),
        ("terms_violation", "termsViolation"),
        ("chargeback_filed", "chargebackFiled"),
        ("concerns_adult_content", "concernsAdultContent"),
    ];

    fn read_field<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => enumeration::<pb::ClaimReason, A>(map, &mut self.reason),
            1 => timestamp(map, &mut self.submitted_at),
            2 => timestamp(map, &mut self.issue_started_at),
            3 => enumeration::<pb::IssueCause, A>(map, &mut self.cause),
            4 => message(map, &mut self.outage),
            5 => message(map, &mut self.support),
            6 => string(map, &mut self.description),
            7 => uint32(map, &mut self.evidence_attachments),
            8 => message(map, &mut self.charged_amount),
            9 => message(map, &mut self.expected_amount),
            10 => message(map, &mut self.duplicate_amount),
            11 => optional_bool(map, &mut self.device_officially_supported),
            12 => optional_bool(map, &mut self.device_meets_minimum_requirements),
            13 => boolean(map, &mut self.terms_violation),
            14 => boolean(map, &mut self.chargeback_filed),
            15 => boolean(map, &mut self.concerns_adult_content),
            _ => Err(no_field(index)),
        }
    }
}

impl Read for pb::EvaluateClaimRequest {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("policy_id", "policyId"),
        ("purchase", "purchase"),
        ("claim", "claim"),
        ("evaluated_at", "evaluatedAt"),
        ("locale", "locale"),
        ("request_id", "requestId"),
        ("explain", "explain"),
    ];

    fn read_field<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => string(map, &mut self.policy_id),
            1 => message(map, &mut self.purchase),
            2 => message(map, &mut self.claim),
            3 => timestamp(map, &mut self.evaluated_at),
            4 => string(map, &mut self.locale),
            5 => string(map, &mut self.request_id),
            6 => boolean(map, &mut self.explain),
            _ => Err(no_field(index)),
        }
    }
}

impl Read for pb::QuoteRefundRequest {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("policy_id", "policyId"),
        ("purchase", "purchase"),
        ("as_of", "asOf"),
        ("locale", "locale"),
    ];

    fn read_field<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => string(map, &mut self.policy_id),
            1 => message(map, &mut self.purchase),
            2 => timestamp(map, &mut self.as_of),
            3 => string(map, &mut self.locale),
            _ => Err(no_field(index)),
        }
    }
}

// ---------------------------------------------------------------- writing

/// Why a message could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(&'static str);

/// The fields of one JSON object being written: each is `"key":value`, with
/// a comma before all but the first.
pub struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Object<'_> {
    /// Starts the next field: the comma, the key (a proto field name, which
    /// needs no escaping) and the colon.
    fn key(&mut self, key: &'static str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    fn string(&mut self, key: &'static str, v: &str) {
        if !v.is_empty() {
            string_value(self.key(key), v);
        }
    }

    fn boolean(&mut self, key: &'static str, v: bool) {
        if v {
            self.key(key).extend_from_slice(b"true");
        }
    }

    fn uint32(&mut self, key: &'static str, v: u32) {
        if v != 0 {
            integer(self.key(key), i64::from(v));
        }
    }

    fn enumeration<E: ProtoEnum>(&mut self, key: &'static str, v: i32) {
        if v != 0 {
            enum_value::<E>(self.key(key), v);
        }
    }

    fn timestamp(&mut self, key: &'static str, v: Option<&prost_types::Timestamp>) -> Result<(), WriteError> {
        match v {
            Some(ts) => timestamp_value(self.key(key), ts),
            None => Ok(()),
        }
    }

    fn message<T: Write>(&mut self, key: &'static str, v: Option<&T>) -> Result<(), WriteError> {
        match v {
            Some(m) => object(self.key(key), m),
            None => Ok(()),
        }
    }

    fn messages<T: Write>(&mut self, key: &'static str, v: &[T]) -> Result<(), WriteError> {
        if v.is_empty() {
            return Ok(());
        }
        let out = self.key(key);
        out.push(b'[');
        for (i, m) in v.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            object(out, m)?;
        }
        out.push(b']');
        Ok(())
    }

    fn strings(&mut self, key: &'static str, v: &[String]) {
        if v.is_empty() {
            return;
        }
        let out = self.key(key);
        out.push(b'[');
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string_value(out, s);
        }
        out.push(b']');
    }

    fn enumerations<E: ProtoEnum>(&mut self, key: &'static str, v: &[i32]) {
        if v.is_empty() {
            return;
        }
        let out = self.key(key);
        out.push(b'[');
        for (i, &n) in v.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            enum_value::<E>(out, n);
        }
        out.push(b']');
    }
}

fn object<T: Write>(out: &mut Vec<u8>, message: &T) -> Result<(), WriteError> {
    out.push(b'{');
    message.write_fields(&mut Object { out, first: true })?;
    out.push(b'}');
    Ok(())
}

/// An enum value: its name, or its number when the enum does not define it.
fn enum_value<E: ProtoEnum>(out: &mut Vec<u8>, v: i32) {
    match E::name(v) {
        Some(name) => {
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
        }
        None => integer(out, i64::from(v)),
    }
}

fn integer(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    let mut n = v.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(at..).unwrap_or_default());
}

/// A JSON string as serde_json writes it: `"` and `\` escaped, the control
/// characters as `\b \t \n \f \r` or `\u00xx` (lowercase hex), the rest as is.
fn string_value(out: &mut Vec<u8>, v: &str) {
    out.push(b'"');
    let mut rest = v.as_bytes();
    while let Some(at) = first_to_escape(rest) {
        let (plain, tail) = rest.split_at(at);
        out.extend_from_slice(plain);
        let Some((&byte, tail)) = tail.split_first() else { break };
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => {
                let hex = |n: u8| if n < 10 { b'0' + n } else { b'a' + n - 10 };
                out.extend_from_slice(b"\\u00");
                out.push(hex(byte >> 4));
                out.push(hex(byte & 0xf));
            }
        }
        rest = tail;
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// The position of the first byte of `bytes` that JSON escapes: eight bytes
/// at a time while none is.
fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let needs = |b: &u8| *b < 0x20 || *b == b'"' || *b == b'\\';
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // A zero byte in `y` sets its high bit in `zero(y)` (and no byte
        // without one does, before the first that has one).
        let zero = |y: u64| y.wrapping_sub(ONES) & !y & HIGHS;
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        if control | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\'))) != 0 {
            return chunk.iter().position(needs).map(|i| offset + i);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(needs).map(|i| offset + i)
}

/// A Timestamp as prost-types displays it, `1972-01-01T10:00:20.021Z`
/// (0, 3, 6 or 9 fractional digits), after the range check prost-reflect
/// makes (on the value as stored, before normalizing).
fn timestamp_value(out: &mut Vec<u8>, ts: &prost_types::Timestamp) -> Result<(), WriteError> {
    timestamp_in_range(ts).map_err(WriteError)?;
    let normal = ts.normalized();
    if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&normal.seconds) {
        // Carried past year 9999 by its nanos: prost-types' own formatting.
        use std::io::Write as _;
        return write!(out, "\"{ts}\"").map_err(|_| WriteError("cannot format a timestamp"));
    }
    let (year, month, day) = civil_from_days(normal.seconds.div_euclid(86_400));
    let secs = normal.seconds.rem_euclid(86_400);
    out.push(b'"');
    padded(out, year, 4);
    out.push(b'-');
    padded(out, i64::from(month), 2);
    out.push(b'-');
    padded(out, i64::from(day), 2);
    out.push(b'T');
    padded(out, secs / 3600, 2);
    out.push(b':');
    padded(out, secs / 60 % 60, 2);
    out.push(b':');
    padded(out, secs % 60, 2);
    let nanos = i64::from(normal.nanos);
    if nanos != 0 {
        out.push(b'.');
        if nanos % 1_000_000 == 0 {
            padded(out, nanos / 1_000_000, 3);
        } else if nanos % 1_000 == 0 {
            padded(out, nanos / 1_000, 6);
        } else {
            padded(out, nanos, 9);
        }
    }
    out.extend_from_slice(b"Z\"");
    Ok(())
}

/// The last `width` decimal digits of `n` (not negative), zero-padded.
fn padded(out: &mut Vec<u8>, n: i64, width: u32) {
    for place in (0..width).rev() {
        out.push(b'0' + (n / 10i64.pow(place) % 10) as u8);
    }
}

/// The proleptic Gregorian (year, month, day) of a day counted from
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

impl Write for pb::Money {
    fn write_fields(&self, o: &mut Object<'_>) -> Result<(), WriteError> {
        o.string("currency_code", &self.currency_code);
        o.string("amount", &self.amount);
        Ok(())
    }
}

impl Write for pb::Compensation {
    fn write_fields(&self, o: &mut Object<'_>) -> Result<(), WriteError> {
        o.enumeration::<pb::CompensationKind>("kind", self.kind);
        o.uint32("extension_days", self.extension_days);
        o.uint32("bonus_days", self.bonus_days);
        o.boolean("bonus_negotiable", self.bonus_negotiable);
        o.message("amount", self.amount.as_ref())?;
        o.string("description", &self.description);
        Ok(())
    }
}

impl Write for pb::Reason {
    fn write_fields(&self, o: &mut Object<'_>) -> Result<(), WriteError> {
        o.string("code", &self.code);
        o.string("clause", &self.clause);
        o.string("message", &self.message);
        Ok(())
    }
}

impl Write for pb::Timeline {
    fn write_fields(&self, o: &mut Object<'_>) -> Result<(), WriteError> {
        o.timestamp("acknowledge_by", self.acknowledge_by.as_ref())?;
        o.timestamp("decide_by", self.decide_by.as_ref())?;
        o.timestamp("funds_earliest", self.funds_earliest.as_ref())?;
        o.timestamp("funds_latest", self.funds_latest.as_ref())
    }
}

impl Write for pb::PolicyRef {
    fn write_fields(&self, o: &mut Object<'_>) -> Result<(), WriteError> {
        o.string("id", &self.id);
        o.string("version", &self.version);
        o.string("title", &self.title);
        o.string("rules_edition", &self.rules_edition);
        Ok(())
    }
}

impl Write for pb::RuleTrace {
    fn write_fields(&self, o: &mut Object<'_>) -> Result<(), WriteError> {
        o.string("rule", &self.rule);
        o.string("clause", &self.clause);
        o.boolean("matched", self.matched);
        o.boolean("decisive", self.decisive);
        o.string("detail", &self.detail);
        o.string("reason_code", &self.reason_code);
        Ok(())
    }
}

impl Write for pb::EvaluateClaimResponse {
    fn write_fields(&self, o: &mut Object<'_>) -> Result<(), WriteError> {
        o.enumeration::<pb::Decision>("decision", self.decision);
        o.message("refund_amount", self.refund_amount.as_ref())?;
        o.enumeration::<pb::RefundMethod>("refund_method", self.refund_method);
        o.messages("alternatives", &self.alternatives)?;
        o.messages("reasons", &self.reasons)?;
        o.strings("missing_information", &self.missing_information);
        o.timestamp("resubmit_after", self.resubmit_after.as_ref())?;
        o.timestamp("claim_deadline", self.claim_deadline.as_ref())?;
        o.message("timeline", self.timeline.as_ref())?;
        o.enumerations::<pb::Consequence>("consequences", &self.consequences);
        o.message("policy", self.policy.as_ref())?;
        o.string("explanation", &self.explanation);
        o.string("request_id", &self.request_id);
        o.timestamp("evaluated_at", self.evaluated_at.as_ref())?;
        o.string("decision_id", &self.decision_id);
        // Field number order, as the reflection path writes: trace is 16,
        // engine_version 17.
        o.messages("trace", &self.trace)?;
        o.string("engine_version", &self.engine_version);
        Ok(())
    }
}

impl Write for pb::RefundWindow {
    fn write_fields(&self, o: &mut Object<'_>) -> Result<(), WriteError> {
        o.timestamp("starts_at", self.starts_at.as_ref())?;
        o.timestamp("ends_at", self.ends_at.as_ref())?;
        o.enumeration::<pb::RefundBasis>("basis", self.basis);
        o.message("amount_at_start", self.amount_at_start.as_ref())?;
        o.message("reason", self.reason.as_ref())
    }
}

impl Write for pb::QuoteRefundResponse {
    fn write_fields(&self, o: &mut Object<'_>) -> Result<(), WriteError> {
        o.message("refundable_now", self.refundable_now.as_ref())?;
        o.enumeration::<pb::RefundBasis>("basis", self.basis);
        o.string("unused_fraction", &self.unused_fraction);
        o.messages("schedule", &self.schedule)?;
        o.message("policy", self.policy.as_ref())?;
        o.messages("reasons", &self.reasons)
    }
}
