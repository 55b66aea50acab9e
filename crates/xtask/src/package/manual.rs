//! The man pages of `ebpf-interceptor`, generated from its clap definitions
//! with clap_mangen: ebpf-interceptor(8) and one page per subcommand
//! (ebpf-interceptor-tcp(8), -udp(8), -top(8)), which the main page's
//! SUBCOMMANDS section names. Section 8: the command is in /usr/sbin and
//! needs root or capabilities.

use clap::CommandFactory;

/// The command's definitions, compiled here as well: the shipped binary
/// then needs no clap_mangen, and the command's crate no library target.
/// The file uses only std and clap.
#[path = "../../../cli/src/args.rs"]
#[allow(dead_code)]
mod cli_args;

/// (file name, roff text) of every page. `date` is the changelog's
/// (YYYY-MM-DD), so the pages change only with a release.
pub fn pages(version: &str, date: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    // No `help` subcommand page: `ebpf-interceptor help tcp` is the same
    // text as ebpf-interceptor-tcp(8).
    let mut command = cli_args::Cli::command().disable_help_subcommand(true);
    // Gives the subcommands their display names (ebpf-interceptor-tcp).
    command.build();
    let mut pages = Vec::new();
    for page in std::iter::once(&command).chain(command.get_subcommands().filter(|s| !s.is_hide_set())) {
        let man = clap_mangen::Man::new(page.clone())
            .section("8")
            .manual("System Administration")
            .source(format!("ebpf-interceptor {version}"))
            .date(date);
        let mut text = Vec::new();
        man.render(&mut text).map_err(|e| format!("man page: {e}"))?;
        pages.push((man.get_filename(), text));
    }
    Ok(pages)
}
