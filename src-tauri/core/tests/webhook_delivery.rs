//! Order and event webhooks delivered to real HTTP servers on 127.0.0.1 through the outbox:
//! exact requests on the wire, concurrency, TLS modes, retries, redirects and 410.

mod common;
use common::http::{start_barrier_server, start_tls_server};
use common::*;
use interlock_core::delivery::{Deliverer, ErrorClass};
use interlock_core::model::*;
use interlock_core::outbox::{self, RetryPolicy};
use interlock_core::webhook::*;
use interlock_core::Role;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use wiremock::matchers::{any, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub fn hook(name: &str, action: Action, url: &str) -> WebhookInput {
    WebhookInput {
        timeout_secs: 5,
        ..WebhookInput::new(name, action, url)
    }
}

fn action(kind: ActionType, subtype: ActionSubtype) -> Action {
    Action::new(kind, subtype)
}

fn fast_retries(f: &Fixture) {
    f.station
        .set_retry_policy_unchecked(RetryPolicy {
            delays_secs: vec![0; 7],
            jitter: 0.0,
        })
        .unwrap();
}

async fn drain(f: &Fixture, d: &Arc<Deliverer>) -> outbox::DrainReport {
    outbox::deliver_due(&f.station, d).await.unwrap()
}

fn deliverer() -> Arc<Deliverer> {
    Arc::new(Deliverer::new().unwrap())
}

/// A receiver that answers 200 to everything and records what it got.
async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

fn received_json(req: &wiremock::Request) -> Value {
    serde_json::from_slice(&req.body).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_event_action_arrives_exactly_as_configured() {
    let server = ok_server().await;
    let f = Fixture::new();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &["has_interlock"]);
    let verbs = [
        (ActionSubtype::Create, Verb::Post),
        (ActionSubtype::Update, Verb::Put),
        (ActionSubtype::Delete, Verb::Delete),
    ];
    for (sub, verb) in verbs {
        let mut h = hook(
            &format!("event {sub:?}"),
            action(ActionType::Event, sub),
            &format!("{}/events/{sub:?}?site=b2", server.uri()),
        );
        h.verb = verb;
        h.headers = vec![
            HeaderInput {
                name: "X-Facility".into(),
                value: "core-imaging".into(),
                secret: false,
                secret_value: SecretChange::Keep,
            },
            HeaderInput {
                name: "X-Api-Key".into(),
                value: String::new(),
                secret: true,
                secret_value: SecretChange::Set {
                    value: format!("key-{sub:?}").into(),
                },
            },
        ];
        h.auth = AuthKind::Basic;
        h.auth_username = "station".into();
        h.auth_secret = SecretChange::Set {
            value: "s3cret pass".into(),
        };
        h.body = r#"{"site": "B2", "event_id": "overwritten", "nested": {"a": [1, 2]}}"#.into();
        f.station.save_webhook(None, h).unwrap();
    }
    let d = deliverer();
    let e = f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let mut input = f.event_input(&svc, &user, "2026-11-30T09:30:00Z", "2026-11-30T10:30:00Z");
    input.title = "moved".into();
    f.station.update_event(&e.id, input).unwrap();
    f.station.delete_event(&e.id).unwrap();
    let report = drain(&f, &d).await;
    assert_eq!(report.delivered, 3, "{report:?}");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    for (sub, verb) in verbs {
        let r = requests
            .iter()
            .find(|r| r.url.path() == format!("/events/{sub:?}"))
            .unwrap();
        assert_eq!(r.method.as_str(), verb.as_str());
        assert_eq!(r.url.query(), Some("site=b2"));
        assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
        assert_eq!(r.headers.get("x-facility").unwrap(), "core-imaging");
        assert_eq!(
            r.headers.get("x-api-key").unwrap().to_str().unwrap(),
            format!("key-{sub:?}")
        );
        // "station:s3cret pass" in base64
        assert_eq!(
            r.headers.get("authorization").unwrap(),
            "Basic c3RhdGlvbjpzM2NyZXQgcGFzcw=="
        );
        assert_eq!(
            received_json(r),
            json!({"order_id": null, "event_id": e.id, "site": "B2", "nested": {"a": [1, 2]}}),
            "system key event_id overwrites the configured one"
        );
    }
    let log = f.station.list_deliveries(None, None, 50).unwrap();
    assert_eq!(log.len(), 3);
    assert!(log
        .iter()
        .all(|a| a.outcome == "delivered" && a.status == Some(200) && a.attempt == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn order_actions_fire_once_per_line_item_with_bearer_auth() {
    let server = ok_server().await;
    let f = Fixture::new();
    let scope = f.service("Microscope", &[]);
    let other = f.service("Sequencer", &[]);
    for sub in [
        ActionSubtype::Create,
        ActionSubtype::Update,
        ActionSubtype::Delete,
    ] {
        let mut h = hook(
            &format!("order {sub:?}"),
            action(ActionType::Order, sub),
            &format!("{}/orders", server.uri()),
        );
        h.verb = Verb::Patch;
        h.auth = AuthKind::Bearer;
        h.auth_secret = SecretChange::Set {
            value: "tok-123".into(),
        };
        h.body = r#"{"line_id": "configured", "source": "station"}"#.into();
        f.station.save_webhook(None, h).unwrap();
    }
    // Scoped to one service: fires only for lines of that service.
    let mut scoped = hook(
        "scoped",
        action(ActionType::Order, ActionSubtype::Create),
        &format!("{}/scoped", server.uri()),
    );
    scoped.service_id = Some(scope.id.clone());
    f.station.save_webhook(None, scoped).unwrap();

    let order = f
        .station
        .create_order(OrderInput {
            reference: "ORD-1".into(),
            customer: "Smith lab".into(),
            status: OrderStatus::Open,
            lines: vec![
                OrderLineInput {
                    id: None,
                    service_id: scope.id.clone(),
                    description: "imaging".into(),
                },
                OrderLineInput {
                    id: None,
                    service_id: other.id.clone(),
                    description: "run".into(),
                },
            ],
        })
        .unwrap();
    let d = deliverer();
    assert_eq!(
        drain(&f, &d).await.delivered,
        3,
        "two lines fire twice, plus one scoped"
    );
    let reqs = server.received_requests().await.unwrap();
    let mut lines: Vec<Value> = reqs
        .iter()
        .filter(|r| r.url.path() == "/orders")
        .map(received_json)
        .collect();
    lines.sort_by_key(|v| v["line_id"].as_str().unwrap().to_string());
    let mut expected = vec![
        json!({"order_id": order.id, "line_id": order.lines[0].id, "source": "station"}),
        json!({"order_id": order.id, "line_id": order.lines[1].id, "source": "station"}),
    ];
    expected.sort_by_key(|v| v["line_id"].as_str().unwrap().to_string());
    assert_eq!(lines, expected);
    for r in reqs.iter().filter(|r| r.url.path() == "/orders") {
        assert_eq!(r.method.as_str(), "PATCH");
        assert_eq!(r.headers.get("authorization").unwrap(), "Bearer tok-123");
    }
    let scoped_reqs: Vec<Value> = reqs
        .iter()
        .filter(|r| r.url.path() == "/scoped")
        .map(received_json)
        .collect();
    assert_eq!(
        scoped_reqs,
        vec![json!({"order_id": order.id, "line_id": order.lines[0].id})]
    );

    // An order without line items sends once, with line_id null, to the all-services webhooks.
    f.station
        .update_order(
            &order.id,
            OrderInput {
                reference: "ORD-1".into(),
                customer: "Smith lab".into(),
                status: OrderStatus::Completed,
                lines: vec![],
            },
        )
        .unwrap();
    f.station.delete_order(&order.id).unwrap();
    assert_eq!(drain(&f, &d).await.delivered, 2);
    let reqs = server.received_requests().await.unwrap();
    let tail: Vec<Value> = reqs[3..].iter().map(received_json).collect();
    assert_eq!(
        tail,
        vec![json!({"order_id": order.id, "line_id": null, "source": "station"}); 2]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_of_one_action_are_sent_concurrently() {
    const N: usize = 5;
    let (url, answered) = start_barrier_server(N).await;
    let f = Fixture::new();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    for i in 0..N {
        f.station
            .save_webhook(
                None,
                hook(
                    &format!("hook {i}"),
                    action(ActionType::Event, ActionSubtype::Create),
                    &url,
                ),
            )
            .unwrap();
    }
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let report = drain(&f, &deliverer()).await;
    assert_eq!(report.delivered as usize, N, "{report:?}");
    assert_eq!(answered.load(Ordering::SeqCst), N);
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_standard_refuses_an_unknown_certificate_insecure_and_custom_ca_accept_it() {
    let tls = start_tls_server().await;
    let f = Fixture::new();
    fast_retries(&f);
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let create = action(ActionType::Event, ActionSubtype::Create);
    f.station
        .save_webhook(None, hook("standard", create, &tls.url))
        .unwrap();
    let mut insecure = hook("insecure", create, &tls.url);
    insecure.insecure = true;
    f.station.save_webhook(None, insecure).unwrap();
    let mut with_ca = hook("custom CA", create, &tls.url);
    with_ca.ca_pem = Some(tls.ca_pem.clone());
    f.station.save_webhook(None, with_ca).unwrap();

    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let report = drain(&f, &deliverer()).await;
    assert_eq!((report.delivered, report.retrying), (2, 1), "{report:?}");
    assert_eq!(tls.hits.load(Ordering::SeqCst), 2);
    let log = f.station.list_deliveries(None, None, 10).unwrap();
    let standard = log.iter().find(|a| a.webhook_name == "standard").unwrap();
    assert_eq!(standard.error_class, Some(ErrorClass::Tls));
    let msg = standard.error.as_deref().unwrap();
    assert!(
        msg.starts_with("TLS certificate problem with 127.0.0.1:"),
        "{msg}"
    );
    assert!(
        msg.to_lowercase().contains("unknownissuer")
            || msg.to_lowercase().contains("unknown issuer"),
        "{msg}"
    );
    assert_eq!(standard.outcome, "retrying");
    for name in ["insecure", "custom CA"] {
        assert_eq!(
            log.iter().find(|a| a.webhook_name == name).unwrap().outcome,
            "delivered"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_retried_until_success_and_each_attempt_is_logged() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("db down"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let f = Fixture::new();
    fast_retries(&f);
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    f.station
        .save_webhook(
            None,
            hook(
                "flaky",
                action(ActionType::Event, ActionSubtype::Create),
                &server.uri(),
            ),
        )
        .unwrap();
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let d = deliverer();
    assert_eq!(drain(&f, &d).await.retrying, 1);
    // With a 0 s schedule each retry is due at once.
    assert_eq!(drain(&f, &d).await.retrying, 1);
    assert_eq!(drain(&f, &d).await.delivered, 1);
    assert_eq!(drain(&f, &d).await.sent, 0, "nothing left");
    let log = f.station.list_deliveries(None, None, 10).unwrap();
    let summary: Vec<(u32, Option<u16>, &str)> = log
        .iter()
        .rev()
        .map(|a| (a.attempt, a.status, a.outcome.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, Some(500), "retrying"),
            (2, Some(500), "retrying"),
            (3, Some(200), "delivered")
        ]
    );
    assert_eq!(
        log[2].error.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );
    assert_eq!(log[2].response_excerpt, "db down");
    // The message id is stable across retries: the same `webhook-id` header on all three
    // attempts (unsigned: no signature, but the id and timestamp are there).
    let reqs = server.received_requests().await.unwrap();
    let ids: Vec<&str> = reqs.iter().map(|r| header_of(r, "webhook-id")).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids[0].starts_with("msg_"), "{ids:?}");
    assert_eq!(ids, vec![ids[0]; 3], "the same webhook-id on every retry");
    let outbox_id = log[0].outbox_id.as_deref().unwrap();
    assert_eq!(ids[0], outbox_id, "the id is the outbox row's");
    for r in &reqs {
        assert_eq!(
            header_of(r, "webhook-timestamp").parse::<i64>().unwrap(),
            t("2026-11-30T08:00:00Z").as_second()
        );
        assert!(r.headers.get("webhook-signature").is_none(), "not signed");
    }
}

fn header_of<'a>(r: &'a wiremock::Request, name: &str) -> &'a str {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schedule_spaces_retries_and_exhaustion_fails_the_delivery() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let f = Fixture::new();
    f.station
        .set_retry_policy_unchecked(RetryPolicy {
            delays_secs: vec![5, 300],
            jitter: 0.0,
        })
        .unwrap();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    f.station
        .save_webhook(
            None,
            hook(
                "down",
                action(ActionType::Event, ActionSubtype::Create),
                &server.uri(),
            ),
        )
        .unwrap();
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let d = deliverer();
    assert_eq!(drain(&f, &d).await.retrying, 1);
    let first = f.station.list_deliveries(None, None, 1).unwrap().remove(0);
    assert_eq!(first.next_attempt_at, Some(t("2026-11-30T08:00:05Z")));
    f.clock.advance(jiff::SignedDuration::from_secs(4));
    assert_eq!(drain(&f, &d).await.sent, 0, "not due before 5 s");
    f.clock.advance(jiff::SignedDuration::from_secs(1));
    assert_eq!(drain(&f, &d).await.retrying, 1);
    f.clock.advance(jiff::SignedDuration::from_secs(300));
    assert_eq!(
        drain(&f, &d).await.failed,
        1,
        "three attempts with two delays, then failed"
    );
    let last = f.station.list_deliveries(None, None, 1).unwrap().remove(0);
    assert_eq!(
        (last.attempt, last.outcome.as_str(), last.next_attempt_at),
        (3, "failed", None)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .mount(&server)
        .await;
    let f = Fixture::new();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    f.station
        .save_webhook(
            None,
            hook(
                "busy",
                action(ActionType::Event, ActionSubtype::Create),
                &server.uri(),
            ),
        )
        .unwrap();
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    assert_eq!(drain(&f, &deliverer()).await.retrying, 1);
    let a = f.station.list_deliveries(None, None, 1).unwrap().remove(0);
    assert_eq!(a.status, Some(429));
    assert_eq!(a.next_attempt_at, Some(t("2026-11-30T08:02:00Z")));
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_not_followed_and_410_disables_the_webhook() {
    let server = MockServer::start().await;
    Mock::given(path("/moved"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", "https://elsewhere.example/hook"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(410))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let f = Fixture::new();
    fast_retries(&f);
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let create = action(ActionType::Event, ActionSubtype::Create);
    f.station
        .save_webhook(
            None,
            hook("moved", create, &format!("{}/moved", server.uri())),
        )
        .unwrap();
    let gone = f
        .station
        .save_webhook(
            None,
            hook("gone", create, &format!("{}/gone", server.uri())),
        )
        .unwrap()
        .webhook;
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let report = drain(&f, &deliverer()).await;
    assert_eq!(report.failed, 2, "{report:?}");
    let log = f.station.list_deliveries(None, None, 10).unwrap();
    let moved = log.iter().find(|a| a.webhook_name == "moved").unwrap();
    assert_eq!(moved.error_class, Some(ErrorClass::Redirect));
    assert_eq!(
        moved.error.as_deref(),
        Some("HTTP 302 Found: redirect to https://elsewhere.example/hook not followed")
    );
    let hooks = f.station.list_webhooks().unwrap();
    let g = hooks.iter().find(|w| w.id == gone.id).unwrap();
    assert!(!g.enabled);
    assert!(g.disabled_reason.as_deref().unwrap().contains("410 Gone"));
    // A disabled webhook no longer fires.
    f.event(&svc, &user, "2026-11-30T11:00:00Z", "2026-11-30T12:00:00Z");
    assert_eq!(
        drain(&f, &deliverer()).await.sent,
        1,
        "only 'moved' fires again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_410_the_webhooks_later_due_rows_are_skipped_not_sent() {
    // A real receiver on 127.0.0.1: /gone answers 503 three times, then 410; /alive answers 200.
    let server = MockServer::start().await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(410))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(path("/alive"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let f = Fixture::new();
    fast_retries(&f);
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let create = action(ActionType::Event, ActionSubtype::Create);
    let gone = f
        .station
        .save_webhook(
            None,
            hook("gone", create, &format!("{}/gone", server.uri())),
        )
        .unwrap()
        .webhook;
    f.station
        .save_webhook(
            None,
            hook("alive", create, &format!("{}/alive", server.uri())),
        )
        .unwrap();
    for h in 9..12 {
        f.event(
            &svc,
            &user,
            &format!("2026-11-30T{h:02}:00:00Z"),
            &format!("2026-11-30T{h:02}:30:00Z"),
        );
    }
    let d = deliverer();
    // First drain: the three deliveries to /gone meet a 503 and are due again at once.
    let first = drain(&f, &d).await;
    assert_eq!((first.delivered, first.retrying), (3, 3), "{first:?}");
    // Second drain, one request at a time: the first retry meets the 410, which disables the
    // webhook; the two other due retries are settled as skipped without a request.
    let second = outbox::drain(&f.station, &d, 1).await.unwrap();
    assert_eq!((second.sent, second.failed), (1, 1), "{second:?}");
    let to_gone =
        |reqs: &[wiremock::Request]| reqs.iter().filter(|r| r.url.path() == "/gone").count();
    assert_eq!(to_gone(&server.received_requests().await.unwrap()), 4);
    let w = f
        .station
        .list_webhooks()
        .unwrap()
        .into_iter()
        .find(|w| w.id == gone.id)
        .unwrap();
    assert!(!w.enabled);
    assert!(w.disabled_reason.as_deref().unwrap().contains("410 Gone"));
    let log = f.station.list_deliveries(None, None, 50).unwrap();
    let of_gone: Vec<_> = log.iter().filter(|a| a.webhook_name == "gone").collect();
    let outcomes = |o: &str| of_gone.iter().filter(|a| a.outcome == o).count();
    assert_eq!(
        (
            outcomes("retrying"),
            outcomes("failed"),
            outcomes("skipped")
        ),
        (3, 1, 2),
        "{of_gone:?}"
    );
    let failed = of_gone.iter().find(|a| a.outcome == "failed").unwrap();
    assert_eq!(failed.status, Some(410));
    for a in of_gone.iter().filter(|a| a.outcome == "skipped") {
        assert_eq!(a.error.as_deref(), Some("Skipped — webhook disabled"));
        assert_eq!(a.next_attempt_at, None);
        assert_ne!(a.outbox_id, failed.outbox_id);
    }
    let conn = rusqlite::Connection::open(f.station.database_path()).unwrap();
    let states: Vec<(String, i64)> = conn
        .prepare("SELECT state, count(*) FROM outbox WHERE webhook_id = ?1 GROUP BY state ORDER BY state")
        .unwrap()
        .query_map([&gone.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(states, vec![("failed".into(), 1), ("skipped".into(), 2)]);
    // Settled: nothing more goes to /gone, and a new event no longer queues for it.
    f.event(&svc, &user, "2026-11-30T14:00:00Z", "2026-11-30T14:30:00Z");
    let third = drain(&f, &d).await;
    assert_eq!(
        (third.sent, third.delivered),
        (1, 1),
        "only 'alive': {third:?}"
    );
    assert_eq!(to_gone(&server.received_requests().await.unwrap()), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_is_down_at_first_gets_the_delivery_once_it_is_up() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    drop(std_listener); // nothing listens: connection refused
    let f = Fixture::new();
    fast_retries(&f);
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    f.station
        .save_webhook(
            None,
            hook(
                "later",
                action(ActionType::Event, ActionSubtype::Create),
                &format!("http://{addr}/hook"),
            ),
        )
        .unwrap();
    let e = f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let d = deliverer();
    assert_eq!(drain(&f, &d).await.retrying, 1);
    let a = f.station.list_deliveries(None, None, 1).unwrap().remove(0);
    assert_eq!(a.error_class, Some(ErrorClass::Refused));
    assert_eq!(
        a.error.as_deref(),
        Some(format!("Connection refused by {addr}").as_str())
    );

    let server = MockServer::builder()
        .listener(std::net::TcpListener::bind(addr).unwrap())
        .start()
        .await;
    Mock::given(method("POST"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"order_id": null, "event_id": e.id})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(drain(&f, &d).await.delivered, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_receiver_times_out_with_a_named_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(3)))
        .mount(&server)
        .await;
    let f = Fixture::new();
    fast_retries(&f);
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let mut h = hook(
        "slow",
        action(ActionType::Event, ActionSubtype::Create),
        &server.uri(),
    );
    h.timeout_secs = 1;
    f.station.save_webhook(None, h).unwrap();
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    assert_eq!(drain(&f, &deliverer()).await.retrying, 1);
    let a = f.station.list_deliveries(None, None, 1).unwrap().remove(0);
    assert_eq!(a.error_class, Some(ErrorClass::Timeout));
    assert!(
        a.error
            .as_deref()
            .unwrap()
            .starts_with("Timed out after 1 s"),
        "{:?}",
        a.error
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_webhooks_carry_standard_webhooks_headers() {
    let server = ok_server().await;
    let f = Fixture::new();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let mut h = hook(
        "signed",
        action(ActionType::Event, ActionSubtype::Create),
        &server.uri(),
    );
    h.signing = true;
    let saved = f.station.save_webhook(None, h).unwrap();
    let secret = saved.new_signing_secret.expect("shown once");
    assert!(secret.starts_with("whsec_"));
    assert!(saved.webhook.signing_secret_set);
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    drain(&f, &deliverer()).await;
    let r = &server.received_requests().await.unwrap()[0];
    let id = r.headers.get("webhook-id").unwrap().to_str().unwrap();
    let ts: i64 = r
        .headers
        .get("webhook-timestamp")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(id.starts_with("msg_"));
    assert_eq!(ts, t("2026-11-30T08:00:00Z").as_second());
    let expected = interlock_core::signing::sign(&secret, id, ts, &r.body).unwrap();
    assert_eq!(
        r.headers
            .get("webhook-signature")
            .unwrap()
            .to_str()
            .unwrap(),
        expected
    );
    // Saving again keeps the secret; rotating replaces it.
    let again = f
        .station
        .save_webhook(Some(&saved.webhook.id), {
            let mut h = hook(
                "signed",
                action(ActionType::Event, ActionSubtype::Create),
                &server.uri(),
            );
            h.signing = true;
            h
        })
        .unwrap();
    assert!(again.new_signing_secret.is_none());
    let rotated = f.station.rotate_signing_secret(&saved.webhook.id).unwrap();
    assert_ne!(rotated, secret);
}

#[tokio::test(flavor = "multi_thread")]
async fn send_test_and_resend() {
    let server = MockServer::start().await;
    Mock::given(path("/first"))
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let f = Fixture::new();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let mut h = hook(
        "hook",
        action(ActionType::Event, ActionSubtype::Update),
        &format!("{}/first", server.uri()),
    );
    h.body = r#"{"site":"B2"}"#.into();
    let w = f.station.save_webhook(None, h).unwrap().webhook;
    let d = deliverer();

    let test = outbox::send_test(&f.station, &d, &w.id).await.unwrap();
    assert_eq!((test.outcome.as_str(), test.status), ("test", Some(404)));
    assert_eq!(test.error.as_deref(), Some("HTTP 404 Not Found"));
    let again = outbox::send_test(&f.station, &d, &w.id).await.unwrap();
    assert_eq!((again.outcome.as_str(), again.status), ("test", Some(200)));
    let sample: Value = received_json(&server.received_requests().await.unwrap()[1]);
    assert_eq!(
        sample,
        json!({"order_id": "test-order", "event_id": "test-event", "site": "B2"})
    );
    assert!(outbox::resend(&f.station, &d, &again.id)
        .await
        .unwrap_err()
        .message
        .contains("test send cannot be resent"));

    // A delivery that failed for good (a 4xx) is sent once more by Resend.
    let e = f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    f.station
        .update_event(
            &e.id,
            f.event_input(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:30:00Z"),
        )
        .unwrap();
    Mock::given(any())
        .respond_with(ResponseTemplate::new(400))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    assert_eq!(drain(&f, &d).await.failed, 1);
    let failed = f
        .station
        .list_deliveries(Some("failed"), None, 1)
        .unwrap()
        .remove(0);
    let resent = outbox::resend(&f.station, &d, &failed.id).await.unwrap();
    assert_eq!(
        (resent.outcome.as_str(), resent.status, resent.attempt),
        ("delivered", Some(200), 2)
    );
    assert_eq!(resent.outbox_id, failed.outbox_id);
    let reqs = server.received_requests().await.unwrap();
    let (a, b) = (&reqs[reqs.len() - 2], &reqs[reqs.len() - 1]);
    assert_eq!(a.body, b.body, "the same payload is sent again");
    assert_eq!(
        header_of(a, "webhook-id"),
        header_of(b, "webhook-id"),
        "a resend keeps the webhook-id"
    );
    assert_eq!(
        Some(header_of(b, "webhook-id")),
        failed.outbox_id.as_deref()
    );
    // A test send carries an id of its own.
    assert!(header_of(&reqs[0], "webhook-id").starts_with("msg_test_"));
    assert_eq!(
        drain(&f, &d).await.sent,
        0,
        "a resend is once, not a new retry series"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_deliveries_of_a_disabled_webhook_are_skipped_not_sent() {
    let server = ok_server().await;
    let f = Fixture::new();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let create = action(ActionType::Event, ActionSubtype::Create);
    let input = hook("paused", create, &server.uri());
    let w = f.station.save_webhook(None, input.clone()).unwrap().webhook;
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    f.event(&svc, &user, "2026-11-30T11:00:00Z", "2026-11-30T12:00:00Z");
    // Staff disable it while both deliveries are queued.
    f.station
        .save_webhook(
            Some(&w.id),
            WebhookInput {
                enabled: false,
                ..input
            },
        )
        .unwrap();
    let report = drain(&f, &deliverer()).await;
    assert_eq!(report.sent, 0, "{report:?}");
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing sent"
    );
    let log = f.station.list_deliveries(None, None, 10).unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    for a in &log {
        assert_eq!(a.outcome, "skipped");
        assert_eq!(a.error.as_deref(), Some("Skipped — webhook disabled"));
        assert_eq!(a.next_attempt_at, None);
    }
    assert_eq!(
        drain(&f, &deliverer()).await.sent,
        0,
        "settled, not retried"
    );
    // Resend stays available: it sends the skipped delivery with its own webhook-id.
    let resent = outbox::resend(&f.station, &deliverer(), &log[0].id)
        .await
        .unwrap();
    assert_eq!(
        (resent.outcome.as_str(), resent.status),
        ("delivered", Some(200))
    );
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        Some(header_of(&reqs[0], "webhook-id")),
        log[0].outbox_id.as_deref()
    );
}

/// A receiver on 127.0.0.1 that answers `/slow` only when released and everything else at once,
/// and counts the requests it got by path.
async fn slow_and_fast_server() -> (
    String,
    Arc<tokio::sync::Notify>,
    Arc<std::sync::atomic::AtomicUsize>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let release = Arc::new(tokio::sync::Notify::new());
    let fast = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (rel, n) = (release.clone(), fast.clone());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            let (rel, n) = (rel.clone(), n.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16384];
                let mut got = Vec::new();
                loop {
                    let k = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => k,
                    };
                    got.extend_from_slice(&buf[..k]);
                    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&got[..end]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if got.len() < end + 4 + len {
                        continue;
                    }
                    got.drain(..end + 4 + len);
                    if head.contains(" /slow ") {
                        rel.notified().await;
                    } else {
                        n.fetch_add(1, Ordering::SeqCst);
                    }
                    if s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, release, fast)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_webhook_never_holds_back_the_others() {
    let (url, release, fast) = slow_and_fast_server().await;
    let f = Fixture::new();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let create = action(ActionType::Event, ActionSubtype::Create);
    let mut slow = hook("slow", create, &format!("{url}/slow"));
    slow.timeout_secs = 120;
    f.station.save_webhook(None, slow).unwrap();
    f.event(&svc, &user, "2026-11-30T07:00:00Z", "2026-11-30T07:30:00Z");
    // The app's worker picks up the slow delivery first...
    let worker = tokio::spawn(outbox::run_worker(
        f.station.clone(),
        deliverer(),
        std::time::Duration::from_secs(60),
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while outbox_pending_leased(&f) == 0 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // ...then 100 fast webhooks of another action fire (more than the in-flight bound would
    // hold if they queued behind it): all of them arrive while the slow one is still in flight.
    let update = action(ActionType::Event, ActionSubtype::Update);
    for i in 0..100 {
        f.station
            .save_webhook(
                None,
                hook(&format!("fast {i}"), update, &format!("{url}/fast")),
            )
            .unwrap();
    }
    let e = f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    f.station
        .update_event(
            &e.id,
            f.event_input(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:30:00Z"),
        )
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while fast.load(Ordering::SeqCst) < 100 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} fast deliveries arrived",
            fast.load(Ordering::SeqCst)
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The worker records each outcome in its next round, a moment after the receiver counted it.
    let log = loop {
        let log = f.station.list_deliveries(None, None, 200).unwrap();
        let delivered = log.iter().filter(|a| a.outcome == "delivered").count();
        if delivered == 100 {
            break log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {delivered} of the 100 fast deliveries were recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert!(
        log.iter().all(|a| a.webhook_name != "slow"),
        "the slow one is still in flight"
    );
    release.notify_one();
    worker.abort();
}

fn outbox_pending_leased(f: &Fixture) -> i64 {
    let c = rusqlite::Connection::open(f.station.database_path()).unwrap();
    c.query_row(
        "SELECT count(*) FROM outbox WHERE state = 'pending' AND next_attempt_at > ?1",
        [f.station.now().as_millisecond()],
        |r| r.get(0),
    )
    .unwrap()
}

/// A drain keeps at most `max_in_flight` requests sent whose outcome is not yet recorded (what
/// bounds the repeats after a kill -9), however fast the outcomes arrive and however they are
/// grouped into rounds: the receiver checks, at every request, how many requests it got against
/// the attempts logged.
#[tokio::test(flavor = "multi_thread")]
async fn a_drain_never_has_more_unrecorded_sends_than_its_bound() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let f = Fixture::new();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let db = f.station.database_path();
    let got = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let worst = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (g, w) = (got.clone(), worst.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (g, w, db) = (g.clone(), w.clone(), db.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16384];
                let mut acc = Vec::new();
                loop {
                    let k = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => k,
                    };
                    acc.extend_from_slice(&buf[..k]);
                    let Some(end) = acc.windows(4).position(|x| x == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&acc[..end]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if acc.len() < end + 4 + len {
                        continue;
                    }
                    acc.drain(..end + 4 + len);
                    let sent = g.fetch_add(1, Ordering::SeqCst) + 1;
                    let db = db.clone();
                    let recorded: usize = tokio::task::spawn_blocking(move || {
                        let c = rusqlite::Connection::open(db).unwrap();
                        c.query_row("SELECT count(*) FROM delivery_attempts", [], |r| {
                            r.get::<_, i64>(0)
                        })
                        .unwrap() as usize
                    })
                    .await
                    .unwrap();
                    w.fetch_max(sent.saturating_sub(recorded), Ordering::SeqCst);
                    if s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    let create = action(ActionType::Event, ActionSubtype::Create);
    for i in 0..12 {
        f.station
            .save_webhook(None, hook(&format!("hook {i}"), create, &url))
            .unwrap();
    }
    for day in 1..=10 {
        f.event(
            &svc,
            &user,
            &format!("2026-12-{day:02}T09:00:00Z"),
            &format!("2026-12-{day:02}T10:00:00Z"),
        );
    }
    let report = outbox::drain(&f.station, &deliverer(), 4).await.unwrap();
    assert_eq!((report.sent, report.delivered), (120, 120));
    assert_eq!(got.load(Ordering::SeqCst), 120);
    let worst = worst.load(Ordering::SeqCst);
    assert!(
        (1..=4).contains(&worst),
        "{worst} requests sent whose outcome was not yet recorded (bound 4)"
    );
    let log = f.station.list_deliveries(None, None, 500).unwrap();
    assert_eq!(log.iter().filter(|a| a.outcome == "delivered").count(), 120);
    assert_eq!(
        f.station
            .list_deliveries(None, None, 500)
            .unwrap()
            .iter()
            .map(|a| a.outbox_id.clone())
            .collect::<std::collections::HashSet<_>>()
            .len(),
        120,
        "one logged attempt per delivery"
    );
}
