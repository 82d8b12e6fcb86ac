//! `tangible`: the buyer's and studio's command line client. See the crate docs.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tangible_cli::Cli::parse();
    tangible_cli::run(cli)
}
