//! Printing events on stdout in the chosen format: columns, JSON lines,
//! CSV, or nothing.

mod columns;
mod csv;
mod json;

use std::io::{self, Write};

use ebpf_interceptor::Event;

use crate::args::OutputFormat;

pub use json::escape as json_string;

/// Which protocols the output will carry (sets the columns and widths).
#[derive(Debug, Clone, Copy)]
pub struct Protocols {
    pub tcp: bool,
    pub udp: bool,
}

/// Writes events in one format to a writer.
pub struct Printer<W: Write> {
    format: OutputFormat,
    protocols: Protocols,
    columns: columns::Layout,
    out: W,
}

impl<W: Write> Printer<W> {
    /// A printer; `ipv4_only` narrows the address columns.
    pub fn new(format: OutputFormat, protocols: Protocols, ipv4_only: bool, out: W) -> Self {
        Self {
            format,
            protocols,
            columns: columns::Layout::new(ipv4_only),
            out,
        }
    }

    /// The header line, if the format has one.
    pub fn header(&mut self) -> io::Result<()> {
        match self.format {
            OutputFormat::Columns => writeln!(self.out, "{}", self.columns.header()),
            OutputFormat::Csv => writeln!(self.out, "{}", csv::header(self.protocols)),
            OutputFormat::Json | OutputFormat::None => Ok(()),
        }
    }

    /// One event.
    pub fn event(&mut self, event: &Event) -> io::Result<()> {
        match self.format {
            OutputFormat::Columns => writeln!(self.out, "{}", self.columns.row(event)),
            OutputFormat::Json => writeln!(self.out, "{}", json::object(event)),
            OutputFormat::Csv => writeln!(self.out, "{}", csv::row(event, self.protocols)),
            OutputFormat::None => Ok(()),
        }
    }

    /// Pushes what was written to its destination.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
