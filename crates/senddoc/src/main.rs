//! `senddoc`: the command-line face of the toolkit.
//!
//! `senddoc convert --from json|xml --to json|xml [--lenient] [--pretty] [--xml-declaration] INPUT [-o OUTPUT]`
//! reads a FHIR resource and writes it back, in either format. Exit status: 0 on success, 1 on an
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
        /// Start XML output with `<?xml version="1.0" encoding="UTF-8"?>`.
        #[arg(long)]
        xml_declaration: bool,
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
    /// FHIR XML (comments are kept XML to XML; JSON has no place for them).
    Xml,
}

/// What `convert` was asked to do.
struct Convert<'a> {
    from: Format,
    to: Format,
    lenient: bool,
    opts: WriteOptions,
    input: &'a PathBuf,
    output: Option<&'a PathBuf>,
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

fn convert(c: &Convert<'_>) -> Result<(), String> {
    let bytes = read_input(c.input)?;
    let opts = if c.lenient {
        ReadOptions::lenient()
    } else {
        ReadOptions::strict()
    };
    let parsed = match c.from {
        Format::Json => Resource::from_json_with(&bytes, &opts),
        Format::Xml => Resource::from_xml_with(&bytes, &opts),
    }
    .map_err(|e| format!("{}: {e}", c.input.display()))?;
    for w in &parsed.warnings {
        eprintln!("{}: {w}", c.input.display());
    }
    let text = match c.to {
        Format::Json => parsed.value.to_json_with(&c.opts),
        Format::Xml => parsed.value.to_xml_with(&c.opts),
    };
    match c.output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| {
                    if text.ends_with('\n') {
                        Ok(())
                    } else {
                        out.write_all(b"\n")
                    }
                })
                .map_err(|e| format!("stdout: {e}"))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Convert {
            from,
            to,
            lenient,
            pretty,
            xml_declaration,
            input,
            output,
        } => convert(&Convert {
            from: *from,
            to: *to,
            lenient: *lenient,
            opts: WriteOptions {
                pretty: *pretty,
                xml_declaration: *xml_declaration,
            },
            input,
            output: output.as_ref(),
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
