//! The command line after the mode: `key=value` words.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::report::fail;

/// The `key=value` arguments of one run.
pub struct Args(HashMap<String, String>);

impl Args {
    /// Parses `key=value` words; other words are ignored.
    pub fn parse(words: impl Iterator<Item = String>) -> Self {
        Self(
            words
                .filter_map(|word| word.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
                .collect(),
        )
    }

    /// A text value.
    pub fn text<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.0.get(key).map_or(default, String::as_str)
    }

    /// A value given or not.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A number; a value that is not one ends the run.
    pub fn number(&self, key: &str, default: usize) -> usize {
        self.0.get(key).map_or(default, |v| {
            v.parse().unwrap_or_else(|_| fail(format!("bad {key}={v}")))
        })
    }

    /// A switch: on when given as `key=1`.
    pub fn flag(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|v| v == "1")
    }

    /// The `addr=` address (default 127.0.0.1).
    pub fn addr(&self) -> IpAddr {
        let text = self.text("addr", "127.0.0.1");
        text.parse().unwrap_or_else(|_| fail(format!("bad addr={text}")))
    }
}
