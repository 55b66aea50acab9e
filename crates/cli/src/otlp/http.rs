//! A minimal HTTP/1.1 client for OTLP/HTTP: POST with a Content-Length
//! body over a kept-alive `TcpStream`, responses with Content-Length,
//! chunked or close-delimited bodies. Plain HTTP only. Every request is
//! bounded in time (connect, write and read timeouts, and one deadline
//! over the whole response) and in memory (headers and body sizes).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::endpoint::Endpoint;

/// Largest response head and body read (a collector answers in bytes).
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// A response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Retry-After in seconds, if given as a number.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// A connection to the collector, opened on demand and kept alive.
pub struct Client {
    endpoint: Endpoint,
    timeout: Duration,
    connection: Option<BufReader<TcpStream>>,
}

impl Client {
    pub fn new(endpoint: Endpoint, timeout: Duration) -> Self {
        Self {
            endpoint,
            timeout,
            connection: None,
        }
    }

    /// POSTs a JSON body to the endpoint's path. A kept-alive connection
    /// the collector closed meanwhile is replaced once, transparently.
    pub fn post_json(&mut self, body: &[u8]) -> io::Result<Response> {
        let reused = self.connection.is_some();
        match self.exchange(body) {
            Err(e) if reused && stale(&e) => self.exchange(body),
            outcome => outcome,
        }
    }

    fn exchange(&mut self, body: &[u8]) -> io::Result<Response> {
        let deadline = Instant::now() + self.timeout;
        match self.try_exchange(body, deadline) {
            Ok((response, keep_alive)) => {
                if !keep_alive {
                    self.connection = None;
                }
                Ok(response)
            }
            Err(e) => {
                self.connection = None;
                Err(e)
            }
        }
    }

    fn try_exchange(&mut self, body: &[u8], deadline: Instant) -> io::Result<(Response, bool)> {
        if self.connection.is_none() {
            self.connection = Some(BufReader::new(self.connect()?));
        }
        let connection = self
            .connection
            .as_mut()
            .ok_or_else(|| io::Error::other("no connection"))?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nUser-Agent: ebpf-interceptor/{}\r\n\r\n",
            self.endpoint.path,
            self.endpoint.authority(),
            body.len(),
            env!("CARGO_PKG_VERSION")
        );
        let stream = connection.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        read_response(connection, deadline)
    }

    fn connect(&self) -> io::Result<TcpStream> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name has no address");
        for address in (self.endpoint.host.as_str(), self.endpoint.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&address, self.timeout) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(self.timeout))?;
                    stream.set_write_timeout(Some(self.timeout))?;
                    stream.set_nodelay(true)?;
                    return Ok(stream);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// An error that says a kept-alive connection was closed by the collector
/// while idle (worth one retry on a new connection), not that it is slow.
fn stale(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the collector did not answer in time")
}

fn read_line(reader: &mut impl BufRead, budget: &mut usize, deadline: Instant) -> io::Result<String> {
    if Instant::now() >= deadline {
        return Err(timed_out());
    }
    let mut line = Vec::new();
    let read = reader.take(*budget as u64 + 1).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the collector closed the connection",
        ));
    }
    if read > *budget {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "response head too large"));
    }
    *budget -= read;
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

/// Reads one response; the flag says whether the connection stays usable.
fn read_response(reader: &mut impl BufRead, deadline: Instant) -> io::Result<(Response, bool)> {
    let mut budget = MAX_HEAD;
    let status_line = read_line(reader, &mut budget, deadline)?;
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or("");
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not an HTTP response: {status_line:?}"),
            )
        })?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut keep_alive = version == "HTTP/1.1";
    let mut retry_after = None;
    loop {
        let line = read_line(reader, &mut budget, deadline)?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length = Some(
                    value
                        .parse()
                        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?,
                );
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => keep_alive = !value.eq_ignore_ascii_case("close"),
            "retry-after" => retry_after = value.parse::<u64>().ok().map(Duration::from_secs),
            _ => {}
        }
    }
    let body = if chunked {
        read_chunked(reader, deadline)?
    } else if let Some(length) = length {
        if length > MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "response body too large"));
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else {
        // Delimited by the close.
        keep_alive = false;
        let mut body = Vec::new();
        reader.take(MAX_BODY as u64).read_to_end(&mut body)?;
        body
    };
    Ok((
        Response {
            status,
            retry_after,
            body,
        },
        keep_alive,
    ))
}

fn read_chunked(reader: &mut impl BufRead, deadline: Instant) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut budget = MAX_HEAD;
    loop {
        let line = read_line(reader, &mut budget, deadline)?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(reader, &mut budget, deadline)?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "response body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        read_line(reader, &mut budget, deadline)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Response, bool) {
        read_response(&mut text.as_bytes(), Instant::now() + Duration::from_secs(5)).unwrap()
    }

    #[test]
    fn length_chunked_and_close_delimited_bodies() {
        let (r, keep) = parse("HTTP/1.1 200 OK\r\ncontent-length: 23\r\n\r\n{\"partialSuccess\":null}");
        assert_eq!(
            (r.status, keep, r.body.as_slice()),
            (200, true, &b"{\"partialSuccess\":null}"[..])
        );
        let (r, keep) = parse(
            "HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\nRetry-After: 7\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
        );
        assert_eq!((r.status, keep, r.body.as_slice()), (503, true, &b"abcde"[..]));
        assert_eq!(r.retry_after, Some(Duration::from_secs(7)));
        let (r, keep) = parse("HTTP/1.0 400 Bad\r\n\r\nno");
        assert_eq!((r.status, keep, r.body.as_slice()), (400, false, &b"no"[..]));
        let (_, keep) = parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        assert!(!keep);
    }

    #[test]
    fn garbage_is_an_error() {
        let deadline = Instant::now() + Duration::from_secs(5);
        assert!(read_response(&mut &b"SSH-2.0-OpenSSH\r\n"[..], deadline).is_err());
        assert!(read_response(&mut &b""[..], deadline).is_err());
        let huge = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert!(read_response(&mut huge.as_bytes(), deadline).is_err());
    }
}
