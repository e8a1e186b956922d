//! Small tower layers that change what a call is answered, each with one
//! job. They sit inside the telemetry layer, so what they answer is counted
//! and logged like any other call.

pub mod shed;
pub mod status_map;
