//! Names of the errors a TCP socket ends with (its `sk_err`).

/// `ECONNREFUSED` for 111; `errno N` for one not listed. The sign is
/// ignored (the kernel keeps socket errors positive).
pub fn name(errno: i32) -> String {
    let n = i32::try_from(errno.unsigned_abs()).unwrap_or(i32::MAX);
    let known = match n {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ECONNRESET => "ECONNRESET",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ENETDOWN => "ENETDOWN",
        libc::EHOSTDOWN => "EHOSTDOWN",
        libc::EPIPE => "EPIPE",
        libc::EPROTO => "EPROTO",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENOMEM => "ENOMEM",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ENETRESET => "ENETRESET",
        _ => return format!("errno {n}"),
    };
    known.to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert_eq!(super::name(111), "ECONNREFUSED");
        assert_eq!(super::name(-104), "ECONNRESET");
        assert_eq!(super::name(4095), "errno 4095");
    }
}
