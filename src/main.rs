//! The `wolkvox-import` command: parse the command line, run, and map the
//! outcome to the contract's exit codes. Everything else is in the library.

mod cli;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    std::process::exit(cli::run(cli));
}
