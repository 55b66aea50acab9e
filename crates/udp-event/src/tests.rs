use std::path::PathBuf;

use super::*;

fn header_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/udpEvent.h")
}

/// include/udpEvent.h is what the Rust definitions render; `./run.sh headers`
/// (UPDATE_HEADERS=1) rewrites it.
#[test]
fn checked_in_header_is_current() {
    let rendered = c_header();
    if std::env::var_os("UPDATE_HEADERS").is_some() {
        std::fs::write(header_path(), &rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string(header_path()).unwrap_or_default();
    assert!(
        on_disk == rendered,
        "include/udpEvent.h is stale: run ./run.sh headers and commit the result"
    );
}
