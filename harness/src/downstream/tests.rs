//! The double over real HTTP on 127.0.0.1:0, steered locally and remotely.

use std::time::Instant;

use serde_json::{Value, json};

use super::*;

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Option<String>, String) {
    let mut req = reqwest::Client::new().request(method, url).header("authorization", "Bearer tok_1");
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), retry, res.text().await.unwrap())
}

#[tokio::test]
async fn answers_any_path_like_an_api_with_a_data_marker_per_request() {
    let d = Downstream::start().await.unwrap();
    let u = d.url();
    let json = |body: &str| serde_json::from_str::<Value>(body).unwrap();
    let (status, _, body) = call(reqwest::Method::GET, format!("{u}/data/reports"), None).await;
    assert_eq!((status, json(&body)), (200, json!([{"id": "1", "title": data_marker(1)}])));
    let (status, _, body) = call(reqwest::Method::POST, format!("{u}/schedules"), Some(json!({"title": "Retro"}))).await;
    assert_eq!((status, json(&body)), (201, json!({"id": "2", "title": "Retro", "marker": data_marker(2)})));
    let (status, _, body) = call(reqwest::Method::PUT, format!("{u}/schedules/7"), Some(json!({"title": "X"}))).await;
    assert_eq!((status, json(&body)), (200, json!({"id": "7", "title": "X", "marker": data_marker(3)})));
    let (status, _, body) = call(reqwest::Method::DELETE, format!("{u}/x/7"), None).await;
    assert_eq!((status, json(&body)), (200, json!({"id": "7", "deleted": true, "marker": data_marker(4)})));
    let (status, _, _) = call(reqwest::Method::POST, format!("{u}/schedules"), Some(json!([1]))).await;
    assert_eq!(status, 400);
    assert!(data_marker(1).starts_with(DATA_MARKER_PREFIX) && !data_marker(12).contains(&data_marker(1)));
}

#[tokio::test]
async fn records_every_request_in_order() {
    let d = Downstream::start().await.unwrap();
    call(reqwest::Method::GET, format!("{}/schedules?page=2", d.url()), None).await;
    call(reqwest::Method::POST, format!("{}/schedules", d.url()), Some(json!({"title": "t"}))).await;
    call(reqwest::Method::GET, format!("{}/__downstream/requests", d.url()), None).await;
    let log = d.requests();
    assert_eq!(log.len(), 2, "control calls are not recorded");
    assert_eq!((log[0].seq, log[0].method.as_str(), log[0].path.as_str(), log[0].query.as_deref()), (1, "GET", "/schedules", Some("page=2")));
    assert_eq!(log[0].bearer(), Some("tok_1"));
    assert_eq!(log[0].status, 200);
    assert_eq!((log[1].body.as_str(), log[1].status), (r#"{"title":"t"}"#, 201));
    assert_eq!(log[1].header("content-type"), Some("application/json"));
    assert!(log[1].at_ms >= log[0].at_ms && log[0].at_ms > 1_700_000_000_000, "wall-clock milliseconds, never going back");
    d.reset();
    assert!(d.requests().is_empty());
}

#[tokio::test]
async fn fails_the_next_n_then_succeeds() {
    let d = Downstream::start().await.unwrap();
    d.script(ScriptRule::fail("GET", "/schedules", 2, 503).retry_after(1)).unwrap();
    d.script(ScriptRule::fail("PUT", "/schedules/*", 1, 500).with_body(json!({"message": "boom"}))).unwrap();
    let url = format!("{}/schedules", d.url());
    assert_eq!(call(reqwest::Method::GET, url.clone(), None).await.0, 503);
    let (status, retry, _) = call(reqwest::Method::GET, url.clone(), None).await;
    assert_eq!((status, retry.as_deref()), (503, Some("1")));
    assert_eq!(call(reqwest::Method::GET, url.clone(), None).await.0, 200);
    let (status, _, body) = call(reqwest::Method::PUT, format!("{url}/3"), Some(json!({}))).await;
    assert_eq!((status, body.as_str()), (500, r#"{"message":"boom"}"#));
    let statuses: Vec<u16> = d.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200, 500]);
    assert!(d.pending_script().is_empty());
}

#[tokio::test]
async fn delays_the_next_n() {
    let d = Downstream::start().await.unwrap();
    d.script(ScriptRule::delay("GET", "/schedules", 1, 400)).unwrap();
    let started = Instant::now();
    assert_eq!(call(reqwest::Method::GET, format!("{}/schedules", d.url()), None).await.0, 200);
    assert!(started.elapsed().as_millis() >= 400);
    let t = Instant::now();
    call(reqwest::Method::GET, format!("{}/schedules", d.url()), None).await;
    assert!(t.elapsed().as_millis() < 400, "only the next one is delayed");
    let log = d.requests();
    assert_eq!((log[0].delayed_ms, log[1].delayed_ms), (400, 0));
    assert!(gaps_ms(&log)[0] >= 400, "arrival times are recorded before the delay");
}

#[tokio::test]
async fn remote_control_works_like_local() {
    let local = Downstream::start().await.unwrap();
    let remote = DownstreamHandle::remote(&local.url()).unwrap();
    assert_eq!(remote.url(), local.url());
    remote.script(ScriptRule::fail("DELETE", "/schedules/1", 1, 429).retry_after(2)).await.unwrap();
    assert_eq!(remote.pending_script().await.unwrap().len(), 1);
    let (status, retry, _) = call(reqwest::Method::DELETE, format!("{}/schedules/1", local.url()), None).await;
    assert_eq!((status, retry.as_deref()), (429, Some("2")));
    let seen = remote.requests_to("DELETE", "/schedules/1").await.unwrap();
    assert_eq!((seen.len(), seen[0].status, seen[0].bearer()), (1, 429, Some("tok_1")));
    remote.reset().await.unwrap();
    assert!(remote.requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_scripts_and_urls_are_clear_errors() {
    let local = Downstream::start().await.unwrap();
    let (status, _, body) =
        call(reqwest::Method::POST, format!("{}/__downstream/script", local.url()), Some(json!({"method": "GET", "path": "/x", "status": 200})))
            .await;
    assert_eq!(status, 422);
    assert!(body.contains("400-599"), "{body}");
    let (status, _, _) = call(
        reqwest::Method::POST,
        format!("{}/__downstream/script", local.url()),
        Some(json!({"method": "GET", "path": "/x", "status": 503, "colour": "red"})),
    )
    .await;
    assert_eq!(status, 422, "unknown fields are refused");
    assert!(matches!(DownstreamHandle::remote("ftp://x"), Err(DownstreamError::InvalidUrl { .. })));
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let gone = RemoteDownstream::new(&format!("http://{closed}")).unwrap();
    assert!(matches!(gone.requests().await, Err(DownstreamError::Http { .. })));
    let taken = Downstream::bind(local.addr()).await;
    assert!(matches!(taken, Err(DownstreamError::Bind { .. })));
}
