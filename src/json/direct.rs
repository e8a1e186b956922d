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
//!   name (an unknown number as a number), Timestamp in RFC 3339.
//!
//! Any failure (a read error, a timestamp out of range on writing) is meant
//! to be redone on the reflection path, whose error message is the one
//! shown: the messages of this module are not.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};

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
    /// Writes the fields that are not at their default value.
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// Reads a `T` from one JSON document; the error says only that it failed.
pub fn parse<T: Read>(json: &str) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let message = MessageSeed::<T>(PhantomData).deserialize(&mut de)?;
    de.end()?;
    Ok(message)
}

/// Appends `message` to `out` as compact JSON (no newline). On an error,
/// what was appended is removed.
pub fn write_line<T: Write>(message: &T, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let start = out.len();
    let written = Object(message).serialize(&mut serde_json::Serializer::new(&mut *out));
    if written.is_err() {
        out.truncate(start);
    }
    written
}

/// [`write_line`] into a new string, pretty-printed as the reflection path does.
pub fn to_string_pretty<T: Write>(message: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    Object(message).serialize(&mut serde_json::Serializer::pretty(&mut out))?;
    String::from_utf8(out).map_err(ser::Error::custom)
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

/// A message as a JSON object.
struct Object<'a, T>(&'a T);

impl<T: Write> Serialize for Object<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.0.write_fields(&mut map)?;
        map.end()
    }
}

/// An enum value: its name, or its number when the enum does not define it.
struct EnumValue<E>(i32, PhantomData<E>);

impl<E: ProtoEnum> Serialize for EnumValue<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match E::name(self.0) {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_i32(self.0),
        }
    }
}

struct TimestampValue<'a>(&'a prost_types::Timestamp);

impl Serialize for TimestampValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        timestamp_in_range(self.0).map_err(ser::Error::custom)?;
        serializer.collect_str(self.0)
    }
}

struct EnumList<'a, E>(&'a [i32], PhantomData<E>);

impl<E: ProtoEnum> Serialize for EnumList<'_, E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for &v in self.0 {
            seq.serialize_element(&EnumValue::<E>(v, PhantomData))?;
        }
        seq.end()
    }
}

struct MessageList<'a, T>(&'a [T]);

impl<T: Write> Serialize for MessageList<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for m in self.0 {
            seq.serialize_element(&Object(m))?;
        }
        seq.end()
    }
}

fn put_string<M: SerializeMap>(map: &mut M, key: &'static str, v: &str) -> Result<(), M::Error> {
    if v.is_empty() {
        return Ok(());
    }
    map.serialize_entry(key, v)
}

fn put_bool<M: SerializeMap>(map: &mut M, key: &'static str, v: bool) -> Result<(), M::Error> {
    if !v {
        return Ok(());
    }
    map.serialize_entry(key, &v)
}

fn put_uint32<M: SerializeMap>(map: &mut M, key: &'static str, v: u32) -> Result<(), M::Error> {
    if v == 0 {
        return Ok(());
    }
    map.serialize_entry(key, &v)
}

fn put_enum<E: ProtoEnum, M: SerializeMap>(map: &mut M, key: &'static str, v: i32) -> Result<(), M::Error> {
    if v == 0 {
        return Ok(());
    }
    map.serialize_entry(key, &EnumValue::<E>(v, PhantomData))
}

fn put_timestamp<M: SerializeMap>(
    map: &mut M,
    key: &'static str,
    v: Option<&prost_types::Timestamp>,
) -> Result<(), M::Error> {
    match v {
        Some(ts) => map.serialize_entry(key, &TimestampValue(ts)),
        None => Ok(()),
    }
}

fn put_message<T: Write, M: SerializeMap>(map: &mut M, key: &'static str, v: Option<&T>) -> Result<(), M::Error> {
    match v {
        Some(m) => map.serialize_entry(key, &Object(m)),
        None => Ok(()),
    }
}

fn put_messages<T: Write, M: SerializeMap>(map: &mut M, key: &'static str, v: &[T]) -> Result<(), M::Error> {
    if v.is_empty() {
        return Ok(());
    }
    map.serialize_entry(key, &MessageList(v))
}

impl Write for pb::Money {
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        put_string(map, "currency_code", &self.currency_code)?;
        put_string(map, "amount", &self.amount)
    }
}

impl Write for pb::Compensation {
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        put_enum::<pb::CompensationKind, M>(map, "kind", self.kind)?;
        put_uint32(map, "extension_days", self.extension_days)?;
        put_uint32(map, "bonus_days", self.bonus_days)?;
        put_bool(map, "bonus_negotiable", self.bonus_negotiable)?;
        put_message(map, "amount", self.amount.as_ref())?;
        put_string(map, "description", &self.description)
    }
}

impl Write for pb::Reason {
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        put_string(map, "code", &self.code)?;
        put_string(map, "clause", &self.clause)?;
        put_string(map, "message", &self.message)
    }
}

impl Write for pb::Timeline {
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        put_timestamp(map, "acknowledge_by", self.acknowledge_by.as_ref())?;
        put_timestamp(map, "decide_by", self.decide_by.as_ref())?;
        put_timestamp(map, "funds_earliest", self.funds_earliest.as_ref())?;
        put_timestamp(map, "funds_latest", self.funds_latest.as_ref())
    }
}

impl Write for pb::PolicyRef {
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        put_string(map, "id", &self.id)?;
        put_string(map, "version", &self.version)?;
        put_string(map, "title", &self.title)?;
        put_string(map, "rules_edition", &self.rules_edition)
    }
}

impl Write for pb::RuleTrace {
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        put_string(map, "rule", &self.rule)?;
        put_string(map, "clause", &self.clause)?;
        put_bool(map, "matched", self.matched)?;
        put_bool(map, "decisive", self.decisive)?;
        put_string(map, "detail", &self.detail)?;
        put_string(map, "reason_code", &self.reason_code)
    }
}

impl Write for pb::EvaluateClaimResponse {
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        put_enum::<pb::Decision, M>(map, "decision", self.decision)?;
        put_message(map, "refund_amount", self.refund_amount.as_ref())?;
        put_enum::<pb::RefundMethod, M>(map, "refund_method", self.refund_method)?;
        put_messages(map, "alternatives", &self.alternatives)?;
        put_messages(map, "reasons", &self.reasons)?;
        if !self.missing_information.is_empty() {
            map.serialize_entry("missing_information", &self.missing_information)?;
        }
        put_timestamp(map, "resubmit_after", self.resubmit_after.as_ref())?;
        put_timestamp(map, "claim_deadline", self.claim_deadline.as_ref())?;
        put_message(map, "timeline", self.timeline.as_ref())?;
        if !self.consequences.is_empty() {
            map.serialize_entry(
                "consequences",
                &EnumList::<pb::Consequence>(&self.consequences, PhantomData),
            )?;
        }
        put_message(map, "policy", self.policy.as_ref())?;
        put_string(map, "explanation", &self.explanation)?;
        put_string(map, "request_id", &self.request_id)?;
        put_timestamp(map, "evaluated_at", self.evaluated_at.as_ref())?;
        put_string(map, "decision_id", &self.decision_id)?;
        // Field number order, as the reflection path writes: trace is 16,
        // engine_version 17.
        put_messages(map, "trace", &self.trace)?;
        put_string(map, "engine_version", &self.engine_version)
    }
}

impl Write for pb::RefundWindow {
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        put_timestamp(map, "starts_at", self.starts_at.as_ref())?;
        put_timestamp(map, "ends_at", self.ends_at.as_ref())?;
        put_enum::<pb::RefundBasis, M>(map, "basis", self.basis)?;
        put_message(map, "amount_at_start", self.amount_at_start.as_ref())?;
        put_message(map, "reason", self.reason.as_ref())
    }
}

impl Write for pb::QuoteRefundResponse {
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        put_message(map, "refundable_now", self.refundable_now.as_ref())?;
        put_enum::<pb::RefundBasis, M>(map, "basis", self.basis)?;
        put_string(map, "unused_fraction", &self.unused_fraction)?;
        put_messages(map, "schedule", &self.schedule)?;
        put_message(map, "policy", self.policy.as_ref())?;
        put_messages(map, "reasons", &self.reasons)
    }
}
