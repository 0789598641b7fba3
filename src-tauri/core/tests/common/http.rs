//! Real receivers on 127.0.0.1 for the delivery tests: a TLS server with a certificate from a
//! throwaway CA (rcgen + rustls), and a plain server that answers only once N requests are in.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

/// Reads one HTTP/1.1 request (headers and a Content-Length body); returns its text.
pub async fn read_request<S: AsyncRead + Unpin>(s: &mut S) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

pub async fn respond<S: AsyncWrite + Unpin>(s: &mut S, status: &str, body: &str) {
    respond_as(s, status, "application/json", body).await
}

pub async fn respond_as<S: AsyncWrite + Unpin>(
    s: &mut S,
    status: &str,
    content_type: &str,
    body: &str,
) {
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(reply.as_bytes()).await;
    let _ = s.shutdown().await;
}

pub struct TlsServer {
    pub url: String,
    /// The CA that issued the server's certificate, as PEM.
    pub ca_pem: String,
    pub hits: Arc<AtomicUsize>,
}

/// An HTTPS server whose certificate no system trust store knows; it answers `{}` as JSON.
pub async fn start_tls_server() -> TlsServer {
    start_tls_server_with("application/json", "{}").await
}

/// An HTTPS server whose certificate no system trust store knows, answering every request with
/// `body` as `content_type` (a calendar feed, say).
pub async fn start_tls_server_with(content_type: &'static str, body: &str) -> TlsServer {
    let body = body.to_string();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Interlock Test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                break;
            };
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            let body = body.clone();
            tokio::spawn(async move {
                // A client that rejects the certificate aborts the handshake: not a hit.
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    read_request(&mut tls).await;
                    counter.fetch_add(1, Ordering::SeqCst);
                    respond_as(&mut tls, "200 OK", content_type, &body).await;
                }
            });
        }
    });
    TlsServer {
        url: format!("https://127.0.0.1:{port}/hook"),
        ca_pem: ca_cert.pem(),
        hits,
    }
}

/// A receiver that holds every request until `n` have arrived, then answers them all 200.
/// Sending one after the other could never satisfy it.
pub async fn start_barrier_server(n: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = answered.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                break;
            };
            let barrier = barrier.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                read_request(&mut tcp).await;
                barrier.wait().await;
                counter.fetch_add(1, Ordering::SeqCst);
                respond(&mut tcp, "200 OK", "{}").await;
            });
        }
    });
    (format!("http://127.0.0.1:{port}/all-at-once"), answered)
}
