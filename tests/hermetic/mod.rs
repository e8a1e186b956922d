//! The built binary, run without the `REFUND_ELIGIBILITY_*` variables of the
//! shell that runs the tests: a test's outcome never depends on them, and a
//! test that means a variable sets it on the command itself.

use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_refund-eligibility");

/// `Command::new(BIN)` with every `REFUND_ELIGIBILITY_*` variable removed.
pub fn binary() -> Command {
    let mut command = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("REFUND_ELIGIBILITY_") {
            command.env_remove(key);
        }
    }
    command
}
