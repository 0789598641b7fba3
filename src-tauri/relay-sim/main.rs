//! interlock-relay-sim: a stand-in for an instrument's interlock relay. It serves lock, unlock and
//! status over HTTP and HTTPS (self-signed, from a throwaway CA), with optional basic auth, status
//! replies in the §2 shape and Shelly- and Tasmota-like shapes, and switches to fail on demand.
//! Tests, `make demo` and facility staff use it to try the station without hardware.
//!
//! Endpoints (any verb): /lock, /unlock, /status, /shelly/status ({"ison": bool}),
//! /tasmota/status ({"POWER": "ON"|"OFF"}). Control (never behind auth): GET /sim/state,
//! POST /sim/mode {"mode": "normal"|"fail"|"delay"|"malformed", "status": 503, "delay_secs": 10},
//! POST /sim/reset.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use base64::Engine;
use clap::Parser;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_rustls::rustls;

#[derive(Debug, Parser)]
#[command(
    name = "interlock-relay-sim",
    version,
    about = "A simulated interlock relay for Interlock Station"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// HTTP port (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// HTTPS port with a self-signed certificate (0 picks a free one; omit to serve no HTTPS).
    #[arg(long)]
    tls_port: Option<u16>,
    /// Write the CA certificate that signed the HTTPS certificate here (PEM), for "custom CA".
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Require HTTP basic auth with this username (and --password).
    #[arg(long, requires = "password")]
    user: Option<String>,
    #[arg(long)]
    password: Option<String>,
    /// Start unlocked instead of locked.
    #[arg(long)]
    unlocked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Normal,
    Fail,
    Delay,
    Malformed,
}

#[derive(Debug, Clone, Serialize)]
struct Received {
    method: String,
    path: String,
    body: Value,
    /// When it arrived, in Unix milliseconds (for latency measurements).
    at_ms: u128,
}

#[derive(Debug)]
struct Sim {
    unlocked: bool,
    mode: Mode,
    fail_status: u16,
    delay_secs: u64,
    history: Vec<Received>,
}

#[derive(Clone)]
struct App {
    sim: Arc<Mutex<Sim>>,
    auth: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ModeRequest {
    mode: Mode,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    delay_secs: Option<u64>,
}

fn sim(app: &App) -> std::sync::MutexGuard<'_, Sim> {
    app.sim.lock().unwrap_or_else(|p| p.into_inner())
}

async fn relay(
    State(app): State<App>,
    method: Method,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let path = req.uri().path().to_string();
    if let Some(expected) = &app.auth {
        let given = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if given != expected {
            println!("relay-sim: {method} {path} -> 401 (wrong or missing basic auth)");
            return (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Basic realm=\"relay\"")],
                "unauthorized",
            )
                .into_response();
        }
    }
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_else(|_| Bytes::new());
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (mode, fail_status, delay) = {
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let mut s = sim(&app);
        s.history.push(Received {
            method: method.to_string(),
            path: path.clone(),
            body: body_json,
            at_ms,
        });
        (s.mode, s.fail_status, s.delay_secs)
    };
    if mode == Mode::Delay {
        tokio::time::sleep(Duration::from_secs(delay)).await;
    }
    if mode == Mode::Fail {
        println!("relay-sim: {method} {path} -> {fail_status} (failing on demand)");
        let status = StatusCode::from_u16(fail_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return (status, "relay failing on demand").into_response();
    }
    let mut s = sim(&app);
    match path.as_str() {
        "/lock" => s.unlocked = false,
        "/unlock" => s.unlocked = true,
        _ => {}
    }
    let state = if s.unlocked { "unlocked" } else { "locked" };
    println!("relay-sim: {method} {path} -> 200 (now {state})");
    if mode == Mode::Malformed && path.ends_with("status") {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"status\": ",
        )
            .into_response();
    }
    let reply = match path.as_str() {
        "/lock" | "/unlock" => json!({"ok": true}),
        "/status" => json!({"status": state}),
        "/shelly/status" => json!({"ison": s.unlocked, "has_timer": false, "source": "http"}),
        "/tasmota/status" => json!({"POWER": if s.unlocked { "ON" } else { "OFF" }}),
        _ => return (StatusCode::NOT_FOUND, "no such relay endpoint").into_response(),
    };
    Json(reply).into_response()
}

async fn state(State(app): State<App>) -> Json<Value> {
    let s = sim(&app);
    Json(json!({
        "state": if s.unlocked { "unlocked" } else { "locked" },
        "mode": s.mode,
        "history": s.history,
    }))
}

async fn set_mode(State(app): State<App>, Json(m): Json<ModeRequest>) -> Json<Value> {
    let mut s = sim(&app);
    s.mode = m.mode;
    s.fail_status = m.status.unwrap_or(503);
    s.delay_secs = m.delay_secs.unwrap_or(10);
    println!("relay-sim: mode is now {:?}", s.mode);
    Json(json!({"mode": s.mode}))
}

async fn reset(State(app): State<App>) -> Json<Value> {
    let mut s = sim(&app);
    s.mode = Mode::Normal;
    s.history.clear();
    Json(json!({"mode": s.mode}))
}

fn tls_config(ca_out: Option<&PathBuf>) -> Result<rustls::ServerConfig, String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let e = |e: rcgen::Error| e.to_string();
    let ca_key = KeyPair::generate().map_err(e)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Interlock relay simulator CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(e)?;
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().map_err(e)?;
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(e)?
        .signed_by(&leaf_key, &issuer)
        .map_err(e)?;
    if let Some(path) = ca_out {
        std::fs::write(path, ca_cert.pem())
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    }
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .map_err(|e| e.to_string())
}

async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: rustls::ServerConfig,
    router: Router,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, router) = (acceptor.clone(), router.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
        });
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let auth = match (&args.user, &args.password) {
        (Some(u), Some(p)) => Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )),
        _ => None,
    };
    let app = App {
        sim: Arc::new(Mutex::new(Sim {
            unlocked: args.unlocked,
            mode: Mode::Normal,
            fail_status: 503,
            delay_secs: 10,
            history: Vec::new(),
        })),
        auth,
    };
    let router = Router::new()
        .route("/sim/state", get(state))
        .route("/sim/mode", post(set_mode))
        .route("/sim/reset", post(reset))
        .fallback(any(relay))
        .with_state(app);
    let addr: SocketAddr = match format!("{}:{}", args.bind, args.port).parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("relay-sim: bad address: {e}");
            std::process::exit(2);
        }
    };
    let http = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("relay-sim: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "relay-sim: http://{}",
        http.local_addr().map(|a| a.to_string()).unwrap_or_default()
    );
    if let Some(tls_port) = args.tls_port {
        let config = match tls_config(args.ca_out.as_ref()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("relay-sim: cannot set up HTTPS: {e}");
                std::process::exit(1);
            }
        };
        match tokio::net::TcpListener::bind((args.bind.as_str(), tls_port)).await {
            Ok(l) => {
                println!(
                    "relay-sim: https://{} (self-signed)",
                    l.local_addr().map(|a| a.to_string()).unwrap_or_default()
                );
                tokio::spawn(serve_tls(l, config, router.clone()));
            }
            Err(e) => {
                eprintln!("relay-sim: cannot listen on HTTPS port {tls_port}: {e}");
                std::process::exit(1);
            }
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    if let Err(e) = axum::serve(http, router).await {
        eprintln!("relay-sim: {e}");
        std::process::exit(1);
    }
}
