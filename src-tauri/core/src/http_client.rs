//! Why this exists: the station promises receivers at most `MAX_CONNECTIONS_PER_HOST` kept-alive
//! connections per host. A pool that only caps *idle* connections opens one more whenever a
//! connect races a connection that is just being freed; so every connection here holds a permit
//! of its host's semaphore, returned when the connection closes, and a connect waits for a permit.
//! The rest is what a webhook client needs: rustls over the OS's trusted roots (plus a webhook's
//! own CA, or none for "accept any certificate"), HTTP/2 by ALPN, and the `HTTPS_PROXY` /
//! `HTTP_PROXY` / `NO_PROXY` environment variables.

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connections kept open to one host (scheme and authority), busy or idle.
pub const MAX_CONNECTIONS_PER_HOST: usize = crate::outbox::DEFAULT_MAX_IN_FLIGHT;
/// How long a new connection waits for one of its host's to close. Shorter than the pool's idle
/// timeout, so a connect that lost its race to a freed connection gives up before idle
/// connections start closing (and never opens a connection nobody asked for).
pub const CONNECTION_WAIT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Body = http_body_util::Full<bytes::Bytes>;
pub type HttpClient =
    hyper_util::client::legacy::Client<hyper_rustls::HttpsConnector<HostCappedConnector>, Body>;

/// Which certificates a client trusts.
pub enum Trust<'a> {
    /// The operating system's trusted roots.
    System,
    /// The system's roots and a webhook's own CA (PEM).
    WithCa(&'a [CertificateDer<'static>]),
    /// Any certificate, any host name: the webhook's "accept any certificate" switch.
    AnyCertificate,
}

/// Builds the pieces every client of a `Deliverer` shares.
pub struct ClientFactory {
    system_roots: Arc<RootCertStore>,
    proxies: Arc<Matcher>,
    per_host: usize,
}

impl ClientFactory {
    /// Reads the OS's trusted roots (once) and the proxy environment variables.
    pub fn new() -> ClientFactory {
        Self::with_proxies(Matcher::from_env())
    }

    pub fn with_proxies(proxies: Matcher) -> ClientFactory {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::warn!("a system certificate could not be read: {e}");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!("{added} system root certificates ({ignored} unusable)");
        ClientFactory {
            system_roots: Arc::new(roots),
            proxies: Arc::new(proxies),
            per_host: MAX_CONNECTIONS_PER_HOST,
        }
    }

    /// A smaller cap, for tests that show it holds.
    pub fn with_connections_per_host(mut self, n: usize) -> ClientFactory {
        self.per_host = n.max(1);
        self
    }

    /// A client with its own pool and its own caps: a host's places are held by the connections
    /// of one pool, because another pool could never reuse them (a request there would wait for
    /// places held by connections idle elsewhere).
    pub fn client(&self, trust: Trust<'_>) -> Result<HttpClient, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let tls = match trust {
            Trust::System => builder
                .with_root_certificates(self.system_roots.clone())
                .with_no_client_auth(),
            Trust::WithCa(certs) => {
                let mut roots = (*self.system_roots).clone();
                for cert in certs {
                    roots
                        .add(cert.clone())
                        .map_err(|e| format!("the CA certificate cannot be used: {e}"))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Trust::AnyCertificate => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth(),
        };
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let capped = HostCappedConnector {
            tcp,
            proxies: self.proxies.clone(),
            caps: Arc::default(),
            per_host: self.per_host,
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(capped);
        Ok(
            hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .pool_max_idle_per_host(self.per_host)
                .build(https),
        )
    }

    /// The proxy's `Proxy-Authorization` for a plain-HTTP request sent through it, if any
    /// (an HTTPS request carries it in the tunnel's CONNECT instead).
    pub fn proxy_authorization(&self, uri: &Uri) -> Option<http::HeaderValue> {
        if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
            return None;
        }
        self.proxies.intercept(uri)?.basic_auth().cloned()
    }
}

impl Default for ClientFactory {
    fn default() -> Self {
        Self::new()
    }
}

/// Parses PEM text into certificates; text without a certificate is an error.
pub fn parse_pem_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificate found".into());
    }
    let mut store = RootCertStore::empty();
    for cert in &certs {
        store.add(cert.clone()).map_err(|e| e.to_string())?;
    }
    Ok(certs)
}

/// Opens TCP connections (directly or through the environment's proxy), each holding one of
/// its host's permits until it closes.
#[derive(Clone)]
pub struct HostCappedConnector {
    tcp: HttpConnector,
    proxies: Arc<Matcher>,
    caps: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    per_host: usize,
}

/// Named so that the delivery log can say what happened.
#[derive(Debug)]
pub struct AllConnectionsBusy {
    pub host: String,
    pub per_host: usize,
}

impl std::fmt::Display for AllConnectionsBusy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "all {} connections to {} stayed busy for {} s",
            self.per_host,
            self.host,
            CONNECTION_WAIT.as_secs()
        )
    }
}

impl std::error::Error for AllConnectionsBusy {}

impl HostCappedConnector {
    fn cap_for(&self, host: &str) -> Arc<Semaphore> {
        let mut caps = self.caps.lock().unwrap_or_else(|p| p.into_inner());
        caps.entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }
}

impl tower_service::Service<Uri> for HostCappedConnector {
    type Response = CappedConnection;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<CappedConnection, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let host = format!(
                "{}://{}",
                dst.scheme_str().unwrap_or("http"),
                dst.authority().map(|a| a.as_str()).unwrap_or("")
            )
            .to_ascii_lowercase();
            let cap = this.cap_for(&host);
            let permit = match tokio::time::timeout(CONNECTION_WAIT, cap.acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                _ => {
                    return Err(Box::new(AllConnectionsBusy {
                        host,
                        per_host: this.per_host,
                    }) as BoxError)
                }
            };
            let mut tcp = this.tcp.clone();
            let (io, proxied) = match this.proxies.intercept(&dst) {
                Some(proxy) if dst.scheme() == Some(&http::uri::Scheme::HTTPS) => {
                    let mut tunnel = Tunnel::new(proxy.uri().clone(), tcp);
                    if let Some(auth) = proxy.basic_auth() {
                        tunnel = tunnel.with_auth(auth.clone());
                    }
                    (tower_service::Service::call(&mut tunnel, dst).await?, false)
                }
                Some(proxy) => (
                    tower_service::Service::call(&mut tcp, proxy.uri().clone()).await?,
                    true,
                ),
                None => (tower_service::Service::call(&mut tcp, dst).await?, false),
            };
            Ok(CappedConnection {
                io,
                proxied,
                _permit: permit,
            })
        })
    }
}

/// A TCP connection and its host's permit: dropping the connection returns the permit.
pub struct CappedConnection {
    io: TokioIo<TcpStream>,
    /// A plain-HTTP request through a proxy goes in absolute form.
    proxied: bool,
    _permit: OwnedSemaphorePermit,
}

impl Connection for CappedConnection {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for CappedConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for CappedConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// The "accept any certificate" switch: no check of the chain or the name; the handshake's
/// signatures are still verified, so the connection is at least encrypted to whoever answered.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
