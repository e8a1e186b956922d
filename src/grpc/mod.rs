//! The gRPC edge: generated types, conversions and the service.

pub mod convert;
pub mod pb;
pub mod service;
