//! An anvil node for tests and the local stack, from the project's pinned Foundry binary.

use std::path::PathBuf;

use alloy::node_bindings::{Anvil, AnvilInstance, NodeError};

/// The anvil binary: `$TANGIBLE_ANVIL` if set, else the one `make tools` installs in `.tools/bin`.
pub fn anvil_path() -> PathBuf {
    std::env::var_os("TANGIBLE_ANVIL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // Under cargo (tests of any crate) the run-time manifest folder names this clone,
            // even when the binary was built by another clone sharing the target directory.
            let run_time = std::env::var_os("CARGO_MANIFEST_DIR").and_then(|dir| {
                PathBuf::from(dir)
                    .ancestors()
                    .map(|d| d.join(".tools/bin/anvil"))
                    .find(|p| p.exists())
            });
            run_time.unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin/anvil")
            })
        })
}

/// An anvil builder on the pinned binary, with the given extra arguments.
pub fn anvil() -> Anvil {
    Anvil::at(anvil_path())
}

/// Spawns an anvil with instant mining on a free port.
pub fn spawn() -> Result<AnvilInstance, NodeError> {
    anvil().try_spawn()
}
