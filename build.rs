//! Compiles the wire contract with a pure-Rust protobuf compiler (no system
//! `protoc`) and writes the descriptor set that server reflection serves.

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/refund/eligibility/v1/eligibility.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], ["proto"])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out.join("eligibility_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    let mut config = prost_build::Config::new();
    // prost::Name on every message: the JSON mapping looks descriptors up by full name.
    config.enable_type_names();
    tonic_prost_build::configure().compile_fds_with_config(fds, config)?;

    // google.rpc.BadRequest, for reflection only (no Rust code generated).
    let details = "proto/google/rpc/error_details.proto";
    println!("cargo:rerun-if-changed={details}");
    let details_fds = protox::compile([details], ["proto"])?;
    fs::write(
        out.join("error_details_descriptor.bin"),
        prost::Message::encode_to_vec(&details_fds),
    )?;
    Ok(())
}
