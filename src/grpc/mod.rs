//! The gRPC edge: generated types, conversions and the service.
//!
//! Conversions split by direction: [`decode`] turns wire requests into
//! validated domain values (and can fail, naming every bad field), [`encode`]
//! turns domain answers into wire responses (and cannot fail).

pub mod answer;
pub mod decision_id;
pub mod decode;
pub mod encode;
pub mod pb;
pub mod service;
pub mod stream;
