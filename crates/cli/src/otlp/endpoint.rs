//! Where log records are POSTed: `--otlp http://HOST[:PORT][/PREFIX]`
//! becomes HOST:PORT and PREFIX/v1/logs (the OTLP/HTTP convention for a
//! base URL). Plain HTTP only: this client has no TLS.

/// A parsed `--otlp` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address, as given (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// The request path: the URL's path and `/v1/logs`.
    pub path: String,
}

impl Endpoint {
    /// Parses `http://HOST[:PORT][/PATH]`; the default port is 4318
    /// (OTLP/HTTP's).
    pub fn parse(url: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("--otlp {url:?}: {why}");
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => {
                return Err(bad(
                    "https is not supported (this exporter speaks plain HTTP): use http://, e.g. a collector or agent on this host or network",
                ));
            }
            _ => return Err(bad("expected http://HOST[:PORT][/PATH]")),
        };
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        if authority.contains('@') || path.contains(['?', '#']) {
            return Err(bad("user info, queries and fragments are not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed [ in the host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(bad("no host"));
        }
        let port = match port {
            None => 4318,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad("the port is not 1 to 65535"))?,
        };
        if path.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(bad("spaces in the path"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path: format!("{}/v1/logs", path.trim_end_matches('/')),
        })
    }

    /// The Host header's value.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The full URL requests go to, for messages.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_get_the_logs_path() {
        let e = Endpoint::parse("http://127.0.0.1:14318").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("127.0.0.1", 14318, "/v1/logs")
        );
        assert_eq!(
            Endpoint::parse("http://collector/").unwrap().url(),
            "http://collector:4318/v1/logs"
        );
        assert_eq!(
            Endpoint::parse("http://[::1]:4318/otlp").unwrap().url(),
            "http://[::1]:4318/otlp/v1/logs"
        );
    }

    #[test]
    fn refusals_say_why() {
        assert!(
            Endpoint::parse("https://x")
                .unwrap_err()
                .contains("https is not supported")
        );
        assert!(Endpoint::parse("x:4318").is_err());
        assert!(Endpoint::parse("http://x:0").is_err());
        assert!(Endpoint::parse("http://x:99999").is_err());
        assert!(Endpoint::parse("http://").is_err());
        assert!(Endpoint::parse("http://x/a?b").is_err());
    }
}
