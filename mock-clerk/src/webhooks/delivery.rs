//! One delivery attempt over HTTP: sign with the wall clock, POST, read at most a few bytes of the answer,
//! never follow redirects, give up after the timeout.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use super::outbox::{Attempt, Job};
use super::signing::{self, Secret};

/// How much of an endpoint's answer is kept (and read: the rest is never downloaded).
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;
/// The `User-Agent` of deliveries (Svix's, with mock-clerk named).
pub const USER_AGENT: &str = "Svix-Webhooks/1.0 (mock-clerk; +https://www.svix.com/http-sources/)";

/// The HTTP client deliveries use: no redirects (a 3xx is a failed attempt, as with Svix), no proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(USER_AGENT)
        .build()
        .expect("the webhook HTTP client builds")
}

/// Makes one attempt, signed with `secrets` at the current wall-clock second; never panics, never waits longer
/// than `timeout` (connect, headers and the excerpt together).
pub async fn attempt(client: &reqwest::Client, job: &Job, secrets: &[Secret], timeout: Duration, wall_ms: i64) -> Attempt {
    let timestamp = wall_ms.div_euclid(1000);
    // The request's headers in one map sized for them and the client's `User-Agent`: added one by one, they would
    // grow the request's map twice per attempt.
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in signing::headers(secrets, &job.message_id, timestamp, job.payload.as_bytes()) {
        // Ids, decimal timestamps and base64 signatures are always valid header values.
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    let request = client.post(&job.url).body(job.payload.body()).build().map(|mut request| {
        *request.headers_mut() = headers;
        request
    });
    let started = Instant::now();
    let outcome = tokio::time::timeout(timeout, async {
        let mut response = client.execute(request?).await?;
        let status = response.status().as_u16();
        let latency = started.elapsed();
        let mut excerpt = Vec::new();
        while excerpt.len() < RESPONSE_EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_EXCERPT_BYTES - excerpt.len())]),
                Ok(None) | Err(_) => break,
            }
        }
        Ok::<_, reqwest::Error>((status, latency, excerpt))
    })
    .await;
    let trigger = if job.replay { "replay" } else { "scheduled" }.into();
    let base = Attempt { at: wall_ms, status_code: None, latency_ms: 0, response: String::new(), error: None, trigger };
    match outcome {
        Ok(Ok((status, latency, excerpt))) => Attempt {
            status_code: Some(status),
            latency_ms: latency.as_millis() as u64,
            response: String::from_utf8_lossy(&excerpt).into_owned(),
            ..base
        },
        Ok(Err(e)) => Attempt { latency_ms: started.elapsed().as_millis() as u64, error: Some(describe(&e)), ..base },
        Err(_) => {
            Attempt { latency_ms: started.elapsed().as_millis() as u64, error: Some(format!("timed out after {} ms", timeout.as_millis())), ..base }
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
