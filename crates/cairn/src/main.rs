use clap::{Parser, Subcommand};

mod tuf;

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "Supply-chain security toolkit: SBOMs and The Update Framework"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trust, refresh and fetch through a TUF repository.
    Tuf(tuf::TufArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Tuf(args) => tuf::run(args),
    }
}
