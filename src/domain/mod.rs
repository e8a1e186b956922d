//! The domain core: pure, synchronous, no gRPC types and no clock.

pub mod calendar;
pub mod claim;
pub mod decision;
pub mod list;
pub mod money;
pub mod term;
