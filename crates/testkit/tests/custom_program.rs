//! AddProbe's BCC text is never compiled. The stock texts (the docs'
//! quick-start program, the original repository's test program) pass
//! silently; any other text is said once per process on stderr, naming the
//! way to filter, since its author may have meant it to filter.

mod common;

use common::libdriver;

fn two_sessions(program: &str) -> (String, String) {
    let output = libdriver(&["tcp", "start", &format!("program={program}"), "rounds=2"], &[], None);
    assert!(output.status.success(), "{output:?}");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_custom_program_is_said_once_and_names_the_filter() {
    let (stdout, stderr) = two_sessions("custom");
    assert_eq!(stdout.matches("STATUS value=1 ").count(), 2, "{stdout}");
    let said: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        said,
        [
            "libtcpEvent: the 82-byte BCC program passed to AddProbe is not the stock one and is not compiled: \
          the built-in program runs and reports every connection; to filter, use EBPF_INTERCEPTOR_TCP_FILTER \
          or tcpEvent_SetFilter (said once)"
        ],
        "{stderr}"
    );
}

#[test]
fn the_stock_program_and_none_pass_silently() {
    for program in ["stock", "none"] {
        let (stdout, stderr) = two_sessions(program);
        assert_eq!(stdout.matches("STATUS value=1 ").count(), 2, "{program}: {stdout}");
        assert_eq!(stderr, "", "{program}");
    }
}
