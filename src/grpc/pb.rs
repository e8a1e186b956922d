//! Code generated from `proto/refund/eligibility/v1/eligibility.proto`.

#![allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs, unreachable_pub)]

tonic::include_proto!("refund.eligibility.v1");

/// The generated server (build.rs): EligibilityService over the messages
/// above, EvaluateClaim answering with `grpc::answer::EvaluateClaimAnswer`.
pub mod served {
    include!(concat!(env!("OUT_DIR"), "/server/refund.eligibility.v1.rs"));
}

/// The encoded descriptor set, served by server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("eligibility_descriptor");

/// google.rpc.BadRequest's descriptor set, served by reflection so clients can
/// decode the detail of an INVALID_ARGUMENT status.
pub const ERROR_DETAILS_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("error_details_descriptor");
