//! The `wolkvox-import` command: parse the command line, run, and map the
//! outcome to the contract's exit codes. Everything else is in the library.

mod cli;

fn main() {
    let cli = cli::parse();
    std::process::exit(cli::run(cli));
}
