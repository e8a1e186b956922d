//! The proto3 JSON mapping of the wire messages (enum names as strings,
//! RFC 3339 timestamps, "172800s" durations), for the offline CLI, the
//! examples and the case corpus.
//!
//! Two implementations: the general one here, on prost-reflect's
//! `DynamicMessage` (any message of the contract), and [`direct`], straight
//! between text and the prost structs, for the requests and responses of
//! the JSON-lines hot path (`evaluate --jsonl`, `quote --jsonl`). They take
//! and give the same JSON; [`parse_request`] and [`write_response_line`]
//! use the direct one and fall back to the general one for its errors.

pub mod direct;

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions};

use crate::grpc::pb;

#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("descriptor: {0}")]
    Descriptor(String),
    #[error("{0}")]
    Syntax(String),
}

fn pool() -> Result<&'static DescriptorPool, JsonError> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| JsonError::Descriptor(e.clone()))
}

fn descriptor<T: prost::Name>() -> Result<MessageDescriptor, JsonError> {
    let name = T::full_name();
    pool()?
        .get_message_by_name(&name)
        .ok_or_else(|| JsonError::Descriptor(format!("no message {name}")))
}

/// Parses a message from its proto3 JSON form; unknown fields are errors.
pub fn from_json<T: prost::Message + prost::Name + Default>(json: &str) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let dynamic =
        DynamicMessage::deserialize(descriptor::<T>()?, &mut de).map_err(|e| JsonError::Syntax(e.to_string()))?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    dynamic
        .transcode_to::<T>()
        .map_err(|e| JsonError::Syntax(e.to_string()))
}

/// Parses a message from an already parsed JSON value.
pub fn from_value<T: prost::Message + prost::Name + Default>(value: &serde_json::Value) -> Result<T, JsonError> {
    let dynamic =
        DynamicMessage::deserialize(descriptor::<T>()?, value).map_err(|e| JsonError::Syntax(e.to_string()))?;
    dynamic
        .transcode_to::<T>()
        .map_err(|e| JsonError::Syntax(e.to_string()))
}

/// Parses a message from an already parsed JSON value, ignoring fields this
/// build does not know (a message another version of the service wrote).
pub fn from_value_lenient<T: prost::Message + prost::Name + Default>(
    value: &serde_json::Value,
) -> Result<T, JsonError> {
    let options = DeserializeOptions::new().deny_unknown_fields(false);
    let dynamic = DynamicMessage::deserialize_with_options(descriptor::<T>()?, value, &options)
        .map_err(|e| JsonError::Syntax(e.to_string()))?;
    dynamic
        .transcode_to::<T>()
        .map_err(|e| JsonError::Syntax(e.to_string()))
}

/// Writes a message in its proto3 JSON form, with proto field names.
pub fn to_json<T: prost::Message + prost::Name>(message: &T) -> Result<String, JsonError> {
    write_json(message, true)
}

/// [`to_json`] on one line (JSON lines output).
pub fn to_json_line<T: prost::Message + prost::Name>(message: &T) -> Result<String, JsonError> {
    write_json(message, false)
}

fn write_json<T: prost::Message + prost::Name>(message: &T, pretty: bool) -> Result<String, JsonError> {
    let mut dynamic = DynamicMessage::new(descriptor::<T>()?);
    dynamic
        .transcode_from(message)
        .map_err(|e| JsonError::Syntax(e.to_string()))?;
    let options = SerializeOptions::new().use_proto_field_name(true);
    let bytes = if pretty {
        let mut out = serde_json::Serializer::pretty(Vec::new());
        dynamic
            .serialize_with_options(&mut out, &options)
            .map_err(|e| JsonError::Syntax(e.to_string()))?;
        out.into_inner()
    } else {
        let mut out = serde_json::Serializer::new(Vec::new());
        dynamic
            .serialize_with_options(&mut out, &options)
            .map_err(|e| JsonError::Syntax(e.to_string()))?;
        out.into_inner()
    };
    String::from_utf8(bytes).map_err(|e| JsonError::Syntax(e.to_string()))
}

/// Parses a request of the JSON-lines path: the direct mapping, and on any
/// error the reflection path, whose error message is the one returned (and
/// whose result is taken should it accept what the direct one refused).
pub fn parse_request<T: direct::Read + prost::Message + prost::Name + Default>(json: &str) -> Result<T, JsonError> {
    match direct::parse(json) {
        Ok(message) => Ok(message),
        Err(_) => from_json(json),
    }
}

/// Appends a response of the JSON-lines path to `out` on one line (without
/// the newline): the direct mapping, and on an error the reflection path
/// (the error it gives, or its output should it write what the direct one
/// could not).
pub fn write_response_line<T: direct::Write + prost::Message + prost::Name>(
    message: &T,
    out: &mut Vec<u8>,
) -> Result<(), JsonError> {
    if direct::write_line(message, out).is_ok() {
        return Ok(());
    }
    out.extend_from_slice(to_json_line(message)?.as_bytes());
    Ok(())
}
