//! refund-eligibility: a stateless gRPC service that decides refund claims
//! for IPTV and digital-subscription merchants under compiled-in policies.
//!
//! Data flows one way: bytes -> [`grpc::decode`] -> [`domain`] values ->
//! [`engine`] -> [`policies`] -> [`domain::decision::Outcome`] ->
//! [`grpc::encode`] -> bytes. Nothing below [`grpc`] knows gRPC exists.

pub mod cli;
pub mod config;
pub mod connection;
pub mod domain;
pub mod engine;
pub mod grpc;
pub mod i18n;
pub mod json;
pub mod jsonl;
pub mod layers;
pub mod logging;
pub mod metrics;
pub mod observe;
pub mod otel;
pub mod policies;
pub mod server;
pub mod telemetry;

pub use grpc::pb;
