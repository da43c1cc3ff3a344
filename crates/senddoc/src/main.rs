//! `senddoc`: the command-line face of the toolkit.
//!
//! `senddoc convert --from json --to json [--lenient] [--pretty] INPUT [-o OUTPUT]`
//! reads a FHIR resource and writes it back. Exit status: 0 on success, 1 on an
//! input error (printed to stderr with its location, line and column), 2 on a
//! usage error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use fhir_stu3::{ReadOptions, Resource, WriteOptions};

#[derive(Parser)]
#[command(
    name = "senddoc",
    version,
    about = "FHIR STU3 / GP Connect Send Document toolkit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a FHIR resource in one format and write it in another.
    Convert {
        /// Input format.
        #[arg(long, value_enum, default_value = "json")]
        from: Format,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        to: Format,
        /// Accept departures from FHIR as warnings (printed to stderr) instead of errors.
        #[arg(long)]
        lenient: bool,
        /// Indent the output.
        #[arg(long)]
        pretty: bool,
        /// Input file (`-` for standard input).
        input: PathBuf,
        /// Output file (standard output when absent).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// FHIR JSON.
    Json,
}

fn read_input(path: &PathBuf) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| format!("stdin: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn convert(
    input: &PathBuf,
    output: Option<&PathBuf>,
    lenient: bool,
    pretty: bool,
) -> Result<(), String> {
    let bytes = read_input(input)?;
    let opts = if lenient {
        ReadOptions::lenient()
    } else {
        ReadOptions::strict()
    };
    let parsed =
        Resource::from_json_with(&bytes, &opts).map_err(|e| format!("{}: {e}", input.display()))?;
    for w in &parsed.warnings {
        eprintln!("{}: {w}", input.display());
    }
    let text = parsed.value.to_json_with(&WriteOptions {
        pretty,
        ..Default::default()
    });
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| if pretty { Ok(()) } else { out.write_all(b"\n") })
                .map_err(|e| format!("stdout: {e}"))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Convert {
            from: Format::Json,
            to: Format::Json,
            lenient,
            pretty,
            input,
            output,
        } => convert(input, output.as_ref(), *lenient, *pretty),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
