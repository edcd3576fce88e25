//! A Stratum V1 connection: `stratum+tcp://` or `stratum+ssl://` (rustls,
//! ring provider), newline-delimited JSON-RPC with a line-length limit.
//!
//! [`Connection`] is blocking: [`Connection::recv`] waits at most a given time
//! for one line, so one thread can both read and write (the miner's pool
//! thread polls its outgoing share queue between reads).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Message, StratumError};

/// The longest line accepted from a pool, in bytes. The largest real jobs
/// (big coinbases, 13+ branches) are a few kilobytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Errors of a pool connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A URL that is not `stratum+tcp://HOST:PORT` or `stratum+ssl://HOST:PORT`.
    #[error("invalid pool URL {url:?}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A network error.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A TLS setup error.
    #[error("TLS: {0}")]
    Tls(String),
    /// The pool closed the connection.
    #[error("the pool closed the connection")]
    Closed,
    /// A line longer than [`MAX_LINE_BYTES`].
    #[error("the pool sent a line over {MAX_LINE_BYTES} bytes")]
    Oversized,
    /// A line that is not UTF-8.
    #[error("the pool sent a line that is not UTF-8")]
    NotUtf8,
    /// A line that is not a JSON-RPC message.
    #[error("the pool sent a bad line ({error}): {line:?}")]
    Protocol {
        /// The line, cut to 200 characters.
        line: String,
        /// Why it is bad.
        error: StratumError,
    },
}

/// Takes the next complete line out of `buf` (the bytes received so far) and
/// parses it, skipping blank lines; `Ok(None)` until a full line is buffered.
///
/// # Errors
/// [`ClientError::Oversized`] for a line (or a buffered partial line) over
/// [`MAX_LINE_BYTES`], [`ClientError::NotUtf8`], [`ClientError::Protocol`].
pub fn take_message(buf: &mut Vec<u8>) -> Result<Option<Message>, ClientError> {
    while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
        if pos > MAX_LINE_BYTES {
            return Err(ClientError::Oversized);
        }
        let rest = buf.split_off(pos + 1);
        let line = std::mem::replace(buf, rest);
        let line = std::str::from_utf8(&line).map_err(|_| ClientError::NotUtf8)?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        return Message::parse(line)
            .map(Some)
            .map_err(|error| ClientError::Protocol {
                line: line.chars().take(200).collect(),
                error,
            });
    }
    if buf.len() > MAX_LINE_BYTES {
        return Err(ClientError::Oversized);
    }
    Ok(None)
}

/// Transport security of a pool URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `stratum+tcp://`: plain TCP.
    Tcp,
    /// `stratum+ssl://` (or `stratum+tls://`): TLS over TCP.
    Ssl,
}

/// A parsed pool URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolUrl {
    /// TCP or TLS.
    pub scheme: Scheme,
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl PoolUrl {
    /// Parses `stratum+tcp://HOST:PORT` or `stratum+ssl://HOST:PORT`.
    ///
    /// # Errors
    /// [`ClientError::Url`] for any other shape.
    pub fn parse(url: &str) -> Result<PoolUrl, ClientError> {
        let err = |reason: &str| ClientError::Url {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = if let Some(r) = url.strip_prefix("stratum+tcp://") {
            (Scheme::Tcp, r)
        } else if let Some(r) = url
            .strip_prefix("stratum+ssl://")
            .or_else(|| url.strip_prefix("stratum+tls://"))
        {
            (Scheme::Ssl, r)
        } else {
            return Err(err("expected stratum+tcp:// or stratum+ssl://"));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| err("missing :PORT"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(err("missing host"));
        }
        let port: u16 = port
            .parse()
            .map_err(|_| err("port is not a number in 1..=65535"))?;
        if port == 0 {
            return Err(err("port 0"));
        }
        Ok(PoolUrl {
            scheme,
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for PoolUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Tcp => "stratum+tcp",
            Scheme::Ssl => "stratum+ssl",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// TLS settings for `stratum+ssl://` pools.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Extra trusted CA certificates (PEM file), beside the Mozilla roots
    /// (a pool with its own CA, or a test's self-signed certificate).
    pub ca_file: Option<PathBuf>,
}

impl TlsOptions {
    /// The rustls client configuration (ring provider).
    ///
    /// # Errors
    /// [`ClientError::Tls`] when the CA file cannot be read or parsed.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, ClientError> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &self.ca_file {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| ClientError::Tls(format!("{}: {e}", path.display())))?;
            let mut n = 0;
            for cert in certs {
                let cert =
                    cert.map_err(|e| ClientError::Tls(format!("{}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| ClientError::Tls(format!("{}: {e}", path.display())))?;
                n += 1;
            }
            if n == 0 {
                return Err(ClientError::Tls(format!(
                    "{}: no PEM certificate in it",
                    path.display()
                )));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

enum Stream {
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// One open connection to a pool.
pub struct Connection {
    stream: Stream,
    buf: Vec<u8>,
    next_id: u64,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.stream.tcp().peer_addr().ok())
            .finish()
    }
}

impl Connection {
    /// Connects (and for `stratum+ssl` does the TLS handshake) within `timeout`.
    ///
    /// # Errors
    /// [`ClientError::Io`] when the host does not resolve or answer,
    /// [`ClientError::Tls`] for a bad certificate or TLS setup.
    pub fn connect(
        url: &PoolUrl,
        tls: &TlsOptions,
        timeout: Duration,
    ) -> Result<Connection, ClientError> {
        let addrs: Vec<_> = (url.host.as_str(), url.port).to_socket_addrs()?.collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "host resolves to no address");
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let tcp = tcp.ok_or(last)?;
        tcp.set_nodelay(true)?;
        tcp.set_write_timeout(Some(timeout))?;
        let stream = match url.scheme {
            Scheme::Tcp => Stream::Tcp(tcp),
            Scheme::Ssl => {
                let name = rustls_pki_types::ServerName::try_from(url.host.clone())
                    .map_err(|e| ClientError::Tls(format!("server name {:?}: {e}", url.host)))?;
                let conn = rustls::ClientConnection::new(tls.client_config()?, name)
                    .map_err(|e| ClientError::Tls(e.to_string()))?;
                let mut s = rustls::StreamOwned::new(conn, tcp);
                s.sock.set_read_timeout(Some(timeout))?;
                let deadline = Instant::now() + timeout;
                while s.conn.is_handshaking() {
                    if Instant::now() >= deadline {
                        return Err(ClientError::Tls("handshake timed out".into()));
                    }
                    s.conn.complete_io(&mut s.sock).map_err(|e| {
                        if e.kind() == io::ErrorKind::InvalidData {
                            ClientError::Tls(e.to_string())
                        } else {
                            ClientError::Io(e)
                        }
                    })?;
                }
                Stream::Tls(Box::new(s))
            }
        };
        Ok(Connection {
            stream,
            buf: Vec::new(),
            next_id: 1,
        })
    }

    /// Sends a request and returns its id.
    ///
    /// # Errors
    /// [`ClientError::Io`] when the write fails.
    pub fn request(&mut self, method: &str, params: Value) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let line = serde_json::json!({"id": id, "method": method, "params": params});
        self.send_line(&line.to_string())?;
        Ok(id)
    }

    /// Sends one raw line (a newline is added).
    ///
    /// # Errors
    /// [`ClientError::Io`] when the write fails.
    pub fn send_line(&mut self, line: &str) -> Result<(), ClientError> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.stream.write_all(&bytes)?;
        self.stream.flush()?;
        Ok(())
    }

    /// Waits up to `wait` for one line; `Ok(None)` when none came in time.
    ///
    /// # Errors
    /// [`ClientError::Closed`], [`ClientError::Oversized`],
    /// [`ClientError::NotUtf8`], [`ClientError::Protocol`] or a read error.
    pub fn recv(&mut self, wait: Duration) -> Result<Option<Message>, ClientError> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(msg) = take_message(&mut self.buf)? {
                return Ok(Some(msg));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let left = (deadline - now).max(Duration::from_millis(1));
            self.stream.tcp().set_read_timeout(Some(left))?;
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(ClientError::Closed);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Closes the connection (TLS close_notify where TLS is used).
    pub fn close(mut self) {
        if let Stream::Tls(s) = &mut self.stream {
            s.conn.send_close_notify();
            let _ = s.conn.write_tls(&mut s.sock);
        }
        let _ = self.stream.tcp().shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = PoolUrl::parse("stratum+tcp://pool.example:3333").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port),
            (Scheme::Tcp, "pool.example", 3333)
        );
        assert_eq!(u.to_string(), "stratum+tcp://pool.example:3333");
        let u = PoolUrl::parse("stratum+ssl://[::1]:443").unwrap();
        assert_eq!((u.scheme, u.host.as_str()), (Scheme::Ssl, "::1"));
        assert_eq!(u.to_string(), "stratum+ssl://[::1]:443");
        for bad in [
            "http://x:1",
            "stratum+tcp://x",
            "stratum+tcp://:1",
            "stratum+tcp://x:0",
            "stratum+tcp://x:99999",
        ] {
            assert!(PoolUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
