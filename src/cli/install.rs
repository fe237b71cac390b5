//! `mcu completions` and `mcu man`: what a city's IT department installs beside the binary.
//! Both come from the parser's own definitions, so they say exactly what `mcu` accepts. They
//! need no config and no store, so they work on a machine that has neither yet.

use clap::CommandFactory;
use std::io::Write;
use std::path::Path;

use super::args::Cli;

/// Prints the completion script for `shell` to stdout.
pub fn completions(shell: clap_complete::Shell) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "mcu", &mut out);
    out.flush()
}

/// `mcu`'s page to stdout, or every command's page into `dir` (created if missing).
pub fn man(dir: Option<&Path>) -> std::io::Result<()> {
    match dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            out.flush()
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(Cli::command(), dir)
        }
    }
}
