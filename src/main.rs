use clap::Parser;

fn main() {
    let cli = wolkvox_import::cli::Cli::parse();
    std::process::exit(wolkvox_import::cli::run(cli));
}
