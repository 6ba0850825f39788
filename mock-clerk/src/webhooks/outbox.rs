//! The outbox: endpoints, the messages sent to them, and each delivery's attempts. Plain data, no I/O; every
//! operation takes the wall-clock time in milliseconds (delivery never follows the virtual clock).
//!
//! Bounds: at most [`QUEUE_LIMIT`] deliveries wait at once — past that, a new delivery is recorded as failed
//! ("queue full") rather than queued, so nothing is dropped unseen; and finished messages beyond [`LOG_LIMIT`]
//! leave the log oldest first (counted in [`Outbox::evicted`]).

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::payload::Payload;
use super::signing::Secret;
use crate::ids::new_id;

/// Deliveries that may wait at once.
pub const QUEUE_LIMIT: usize = 10_000;
/// Finished messages kept for the control API's log.
pub const LOG_LIMIT: usize = 1_000;
/// Attempts kept per delivery (the oldest go first; replays can add more than the schedule's eight).
pub const ATTEMPTS_KEPT: usize = 32;

/// Svix's retry schedule after the first, immediate attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `ep_…`.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// Only these event types (all when empty).
    #[serde(default)]
    pub events: Vec<String>,
    /// Its own signing secret, if not the instance's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// Milliseconds (wall clock).
    pub created_at: i64,
}

impl Endpoint {
    /// Whether this endpoint wants `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == event_type)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// An attempt is under way.
    Sending,
    /// An attempt got a 2xx.
    Succeeded,
    /// Every scheduled attempt failed (or it could not be queued).
    Failed,
}

/// One attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it started (wall-clock milliseconds).
    pub at: i64,
    /// The endpoint's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// Time to the response headers (or to the failure).
    pub latency_ms: u64,
    /// The first bytes of the response body.
    pub response: String,
    /// Why it failed without a status (timeout, connection refused…).
    pub error: Option<String>,
    /// `scheduled` or `replay` (not allocated per attempt).
    pub trigger: std::borrow::Cow<'static, str>,
}

impl Attempt {
    /// 2xx.
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// A message to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The endpoint.
    pub endpoint_id: String,
    /// Its URL when the message was made.
    pub url: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// When the next attempt is due (wall-clock milliseconds), while pending.
    pub next_attempt_at: Option<i64>,
    /// Scheduled attempts made so far (the first is immediate, then [`RETRY_SCHEDULE`]).
    pub scheduled_attempts: usize,
    /// Whether the next attempt is a replay.
    #[serde(default)]
    pub replay: bool,
    /// The attempts, oldest first (at most [`ATTEMPTS_KEPT`]).
    pub attempts: Vec<Attempt>,
    /// Why it failed without an attempt (queue full, endpoint removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One event, as signed and sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `msg_…`: the `svix-id` of every attempt.
    pub id: String,
    /// The event type.
    pub event_type: String,
    /// The exact body sent (the signature covers these bytes).
    pub payload: Payload,
    /// Wall-clock milliseconds.
    pub created_at: i64,
    /// One per endpoint that wanted it.
    pub deliveries: Vec<Delivery>,
}

impl Message {
    fn finished(&self) -> bool {
        self.deliveries.iter().all(|d| matches!(d.status, DeliveryStatus::Succeeded | DeliveryStatus::Failed))
    }
}

/// An attempt to make now.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The message.
    pub message_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// Where to POST.
    pub url: String,
    /// The body.
    pub payload: Payload,
    /// The endpoint's own secret, if any.
    pub secret: Option<Secret>,
    /// Whether this is a replay.
    pub replay: bool,
}

/// Endpoints, messages and deliveries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    /// The endpoints.
    pub endpoints: Vec<Endpoint>,
    /// Messages, oldest first (change them only through the outbox: it keeps an index of them).
    pub messages: VecDeque<Message>,
    /// Finished messages that left the log (beyond [`LOG_LIMIT`]).
    #[serde(default)]
    pub evicted: u64,
    #[serde(skip)]
    index: Index,
}

/// What spares the delivery task a scan of the whole log per attempt: deliveries pending or under way, and a
/// prefix of messages known to be finished. Rebuilt after loading ([`Outbox::resume`]); never compared.
#[derive(Debug, Clone, Default)]
struct Index {
    /// Deliveries pending or sending.
    waiting: usize,
    /// Every message before this position is finished.
    finished_prefix: usize,
}

impl PartialEq for Index {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

fn is_waiting(d: &Delivery) -> bool {
    matches!(d.status, DeliveryStatus::Pending | DeliveryStatus::Sending)
}

/// Why an outbox operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// No such endpoint.
    #[error("endpoint {0} not found")]
    EndpointNotFound(String),
    /// No such message.
    #[error("message {0} not found")]
    MessageNotFound(String),
}

impl Outbox {
    /// Adds an endpoint (or returns the one with this URL, filter and secret, so a restart with the same
    /// `--webhook-url` does not add it twice).
    pub fn add_endpoint(&mut self, url: String, events: Vec<String>, secret: Option<Secret>, now: i64) -> Endpoint {
        if let Some(same) = self.endpoints.iter().find(|e| e.url == url && e.events == events && e.secret == secret) {
            return same.clone();
        }
        let endpoint = Endpoint { id: new_id("ep"), url, events, secret, created_at: now };
        self.endpoints.push(endpoint.clone());
        endpoint
    }

    /// Removes an endpoint; its waiting deliveries are marked failed ("endpoint removed").
    pub fn remove_endpoint(&mut self, id: &str) -> Result<Endpoint, OutboxError> {
        let at = self.endpoints.iter().position(|e| e.id == id).ok_or_else(|| OutboxError::EndpointNotFound(id.to_owned()))?;
        for d in self.messages.iter_mut().flat_map(|m| m.deliveries.iter_mut()).filter(|d| d.endpoint_id == id) {
            if d.status == DeliveryStatus::Pending {
                d.status = DeliveryStatus::Failed;
                d.next_attempt_at = None;
                d.note = Some("endpoint removed".into());
                self.index.waiting -= 1;
            }
        }
        Ok(self.endpoints.remove(at))
    }

    /// Recounts the index from the messages (after loading them).
    fn reindex(&mut self) {
        self.index.waiting = self.messages.iter().flat_map(|m| &m.deliveries).filter(|d| is_waiting(d)).count();
        self.index.finished_prefix = 0;
    }

    /// Where the messages that may still be open start (the prefix of finished ones, extended first).
    fn open_start(&mut self) -> usize {
        while self.messages.get(self.index.finished_prefix).is_some_and(Message::finished) {
            self.index.finished_prefix += 1;
        }
        self.index.finished_prefix
    }

    /// Deliveries pending or under way.
    pub fn waiting(&self) -> usize {
        self.index.waiting
    }

    /// Records a message for every endpoint that wants it (only `endpoint_id`, when given), due now.
    pub fn enqueue(&mut self, event_type: &str, payload: Payload, now: i64, endpoint_id: Option<&str>) -> &Message {
        let mut waiting = self.index.waiting;
        let deliveries: Vec<Delivery> = self
            .endpoints
            .iter()
            .filter(|e| endpoint_id.map_or_else(|| e.wants(event_type), |id| e.id == id))
            .map(|e| {
                let full = waiting >= QUEUE_LIMIT;
                waiting += 1;
                if full {
                    tracing::warn!(endpoint = %e.url, event_type, "webhook queue full: delivery recorded as failed");
                }
                Delivery {
                    endpoint_id: e.id.clone(),
                    url: e.url.clone(),
                    status: if full { DeliveryStatus::Failed } else { DeliveryStatus::Pending },
                    next_attempt_at: (!full).then_some(now),
                    scheduled_attempts: 0,
                    replay: false,
                    attempts: Vec::new(),
                    note: full.then(|| format!("queue full ({QUEUE_LIMIT} deliveries waiting)")),
                }
            })
            .collect();
        self.index.waiting += deliveries.iter().filter(|d| is_waiting(d)).count();
        self.messages.push_back(Message { id: new_id("msg"), event_type: event_type.to_owned(), payload, created_at: now, deliveries });
        self.evict();
        // Eviction takes the oldest finished messages first and keeps at least one, so the newest is this one.
        self.messages.back().expect("the message just recorded")
    }

    /// Removes the oldest finished messages while more than [`LOG_LIMIT`] messages have no waiting delivery (the
    /// exact count of finished ones with one endpoint; with several, waiting deliveries may hold a few more).
    fn evict(&mut self) {
        while self.messages.len().saturating_sub(self.index.waiting) > LOG_LIMIT {
            let Some(at) = self.messages.iter().position(Message::finished) else {
                break;
            };
            self.messages.remove(at);
            self.evicted += 1;
            if at < self.index.finished_prefix {
                self.index.finished_prefix -= 1;
            }
        }
    }

    /// Takes up to `max` deliveries due at `now` and marks them as sending.
    pub fn take_due(&mut self, now: i64, max: usize) -> Vec<Job> {
        let mut jobs = Vec::new();
        let start = self.open_start();
        let endpoints = &self.endpoints;
        for m in self.messages.iter_mut().skip(start) {
            for d in &mut m.deliveries {
                if jobs.len() >= max {
                    return jobs;
                }
                if d.status == DeliveryStatus::Pending && d.next_attempt_at.is_some_and(|t| t <= now) {
                    d.status = DeliveryStatus::Sending;
                    let secret = endpoints.iter().find(|e| e.id == d.endpoint_id).and_then(|e| e.secret.clone());
                    jobs.push(Job {
                        message_id: m.id.clone(),
                        endpoint_id: d.endpoint_id.clone(),
                        url: d.url.clone(),
                        payload: m.payload.clone(),
                        secret,
                        replay: d.replay,
                    });
                }
            }
        }
        jobs
    }

    /// The earliest time a pending delivery is due.
    pub fn next_due(&self) -> Option<i64> {
        self.messages
            .iter()
            .skip(self.index.finished_prefix)
            .flat_map(|m| &m.deliveries)
            .filter(|d| d.status == DeliveryStatus::Pending)
            .filter_map(|d| d.next_attempt_at)
            .min()
    }

    /// Records an attempt's outcome: success ends the delivery; a failure schedules the next attempt after
    /// `RETRY_SCHEDULE × retry_scale`, or fails the delivery when the schedule is spent (a failed replay fails
    /// at once).
    pub fn record(&mut self, job: &Job, attempt: Attempt, now: i64, retry_scale: f64) {
        let start = self.open_start();
        let Some(d) = self
            .messages
            .iter_mut()
            .skip(start)
            .find(|m| m.id == job.message_id)
            .and_then(|m| m.deliveries.iter_mut().find(|d| d.endpoint_id == job.endpoint_id))
        else {
            return;
        };
        let ok = attempt.succeeded();
        if !job.replay {
            d.scheduled_attempts += 1;
        }
        d.replay = false;
        d.attempts.push(attempt);
        if d.attempts.len() > ATTEMPTS_KEPT {
            d.attempts.remove(0);
        }
        if d.status != DeliveryStatus::Sending {
            // Removed or failed while the attempt ran: keep the attempt, not a new schedule.
            return;
        }
        let next = RETRY_SCHEDULE.get(d.scheduled_attempts.saturating_sub(1)).filter(|_| !job.replay && d.scheduled_attempts > 0);
        (d.status, d.next_attempt_at) = match (ok, next) {
            (true, _) => (DeliveryStatus::Succeeded, None),
            (false, Some(delay)) => (DeliveryStatus::Pending, Some(now.saturating_add(scaled_ms(*delay, retry_scale)))),
            (false, None) => (DeliveryStatus::Failed, None),
        };
        if !is_waiting(d) {
            self.index.waiting -= 1;
        }
        if d.status == DeliveryStatus::Failed {
            tracing::warn!(url = %d.url, message_id = %job.message_id, attempts = d.attempts.len(), "webhook delivery failed for good");
        }
    }

    /// Sends a message again now: to every endpoint it went to, or to `endpoint_id` (which may be new to it).
    pub fn replay(&mut self, message_id: &str, endpoint_id: Option<&str>, now: i64) -> Result<Message, OutboxError> {
        if let Some(id) = endpoint_id {
            self.endpoints.iter().find(|e| e.id == id).ok_or_else(|| OutboxError::EndpointNotFound(id.to_owned()))?;
        }
        let endpoints = &self.endpoints;
        let at = self.messages.iter().position(|m| m.id == message_id).ok_or_else(|| OutboxError::MessageNotFound(message_id.to_owned()))?;
        self.index.finished_prefix = self.index.finished_prefix.min(at);
        let m = &mut self.messages[at];
        if let Some(id) = endpoint_id
            && !m.deliveries.iter().any(|d| d.endpoint_id == id)
        {
            let url = endpoints.iter().find(|e| e.id == id).map(|e| e.url.clone()).unwrap_or_default();
            m.deliveries.push(Delivery {
                endpoint_id: id.to_owned(),
                url,
                status: DeliveryStatus::Failed,
                next_attempt_at: None,
                scheduled_attempts: RETRY_SCHEDULE.len() + 1,
                replay: false,
                attempts: Vec::new(),
                note: None,
            });
        }
        for d in m.deliveries.iter_mut().filter(|d| endpoint_id.is_none_or(|id| d.endpoint_id == id)) {
            if d.status != DeliveryStatus::Sending {
                if !is_waiting(d) {
                    self.index.waiting += 1;
                }
                d.replay = d.status != DeliveryStatus::Pending;
                d.status = DeliveryStatus::Pending;
                d.next_attempt_at = Some(now);
                d.note = None;
            }
        }
        Ok(m.clone())
    }

    /// After a restart: attempts that were under way are due again.
    pub fn resume(&mut self, now: i64) {
        for d in self.messages.iter_mut().flat_map(|m| m.deliveries.iter_mut()) {
            if d.status == DeliveryStatus::Sending {
                d.status = DeliveryStatus::Pending;
                d.next_attempt_at = Some(now);
            }
        }
        self.reindex();
    }

    /// Forgets every message (endpoints stay).
    pub fn clear_messages(&mut self) {
        self.messages.clear();
        self.reindex();
    }
}

/// `delay × scale` in milliseconds (at least 0).
pub fn scaled_ms(delay: Duration, scale: f64) -> i64 {
    (delay.as_millis() as f64 * scale.max(0.0)).round().min(i64::MAX as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(at: i64) -> Attempt {
        Attempt { at, status_code: Some(503), latency_ms: 1, response: "down".into(), error: None, trigger: "scheduled".into() }
    }

    /// The index agrees with a scan of the log after every kind of change.
    #[test]
    fn the_index_of_waiting_deliveries_follows_every_change() {
        let scan = |o: &Outbox| o.messages.iter().flat_map(|m| &m.deliveries).filter(|d| is_waiting(d)).count();
        let mut o = Outbox::default();
        let a = o.add_endpoint("http://a.test/h".into(), vec![], None, 0);
        o.add_endpoint("http://b.test/h".into(), vec!["user.deleted".into()], None, 0);
        let mut now = 0;
        for round in 0..40 {
            let m = o.enqueue(if round % 3 == 0 { "user.deleted" } else { "user.created" }, "{}".to_owned().into(), now, None).clone();
            for (i, job) in o.take_due(now, 3).into_iter().enumerate() {
                let status = if (round + i) % 4 == 0 { 503 } else { 204 };
                o.record(&job, Attempt { status_code: Some(status), ..failed(now) }, now, 0.001);
            }
            if round % 7 == 0 {
                o.replay(&m.id, None, now).unwrap();
            }
            if round % 11 == 0 {
                o.replay(&o.messages[0].id.clone(), Some(&a.id), now).unwrap();
            }
            assert_eq!(o.waiting(), scan(&o), "round {round}");
            now += 10;
        }
        let b = o.endpoints[1].id.clone();
        o.remove_endpoint(&b).unwrap();
        assert_eq!(o.waiting(), scan(&o));
        while o.waiting() > 0 {
            for job in o.take_due(now, 10) {
                o.record(&job, Attempt { status_code: Some(204), ..failed(now) }, now, 0.001);
            }
            now += 10_000;
            assert_eq!(o.waiting(), scan(&o));
        }
        o.clear_messages();
        assert_eq!((o.waiting(), scan(&o)), (0, 0));
    }

    #[test]
    fn a_failing_endpoint_gets_the_svix_schedule_then_fails() {
        let mut o = Outbox::default();
        let ep = o.add_endpoint("http://127.0.0.1:9/hook".into(), vec![], None, 0);
        let msg = o.enqueue("user.created", "{}".to_owned().into(), 1_000, None);
        assert_eq!(msg.deliveries.len(), 1);
        let mut now = 1_000;
        let mut gaps = Vec::new();
        for _ in 0..8 {
            let jobs = o.take_due(now, 10);
            assert_eq!(jobs.len(), 1, "due at {now}");
            assert_eq!(jobs[0].endpoint_id, ep.id);
            assert!(o.take_due(now, 10).is_empty(), "an attempt under way is not taken twice");
            o.record(&jobs[0], failed(now), now, 1.0);
            if let Some(next) = o.next_due() {
                gaps.push(next - now);
                now = next;
            }
        }
        let expected: Vec<i64> = RETRY_SCHEDULE.iter().map(|d| d.as_millis() as i64).collect();
        assert_eq!(gaps, expected);
        let d = &o.messages[0].deliveries[0];
        assert_eq!((d.status, d.attempts.len(), d.next_attempt_at), (DeliveryStatus::Failed, 8, None));
    }

    #[test]
    fn the_retry_scale_compresses_the_schedule_and_success_ends_it() {
        let mut o = Outbox::default();
        o.add_endpoint("http://a.test/h".into(), vec![], None, 0);
        o.enqueue("user.created", "{}".to_owned().into(), 0, None);
        let job = o.take_due(0, 1).remove(0);
        o.record(&job, failed(0), 0, 0.001);
        assert_eq!(o.next_due(), Some(5), "5 s at 1/1000");
        let job = o.take_due(5, 1).remove(0);
        o.record(&job, Attempt { status_code: Some(204), ..failed(5) }, 5, 0.001);
        assert_eq!(o.messages[0].deliveries[0].status, DeliveryStatus::Succeeded);
        assert_eq!(o.next_due(), None);
    }

    #[test]
    fn filters_replays_and_removal() {
        let mut o = Outbox::default();
        let users = o.add_endpoint("http://a.test/users".into(), vec!["user.created".into()], None, 0);
        let all = o.add_endpoint("http://a.test/all".into(), vec![], None, 0);
        assert_eq!(o.add_endpoint("http://a.test/all".into(), vec![], None, 5), all, "the same endpoint is not added twice");
        let s = o.enqueue("session.created", "{}".to_owned().into(), 0, None).clone();
        assert_eq!(s.deliveries.iter().map(|d| d.endpoint_id.as_str()).collect::<Vec<_>>(), [all.id.as_str()]);
        let u = o.enqueue("user.created", "{}".to_owned().into(), 0, None);
        assert_eq!(u.deliveries.len(), 2);
        for job in o.take_due(0, 10) {
            o.record(&job, Attempt { status_code: Some(200), ..failed(0) }, 0, 1.0);
        }
        // A replay of a delivered message is one more attempt; its failure does not restart the schedule.
        let replayed = o.replay(&s.id, None, 10).unwrap();
        assert_eq!(replayed.deliveries[0].status, DeliveryStatus::Pending);
        let job = o.take_due(10, 10).remove(0);
        assert!(job.replay);
        o.record(&job, failed(10), 10, 1.0);
        assert_eq!(o.messages[0].deliveries[0].status, DeliveryStatus::Failed);
        assert_eq!(o.messages[0].deliveries[0].attempts.len(), 2);
        // A replay to an endpoint that never had it.
        let to_users = o.replay(&s.id, Some(&users.id), 20).unwrap();
        assert_eq!(to_users.deliveries.len(), 2);
        assert_eq!(o.take_due(20, 10).len(), 1);
        assert_eq!(o.replay("msg_nope", None, 0), Err(OutboxError::MessageNotFound("msg_nope".into())));
        // Removing an endpoint fails what still waits for it.
        o.enqueue("user.created", "{}".to_owned().into(), 30, None);
        o.remove_endpoint(&users.id).unwrap();
        let last = o.messages.back().unwrap();
        let d = last.deliveries.iter().find(|d| d.endpoint_id == users.id).unwrap();
        assert_eq!((d.status, d.note.as_deref()), (DeliveryStatus::Failed, Some("endpoint removed")));
        assert_eq!(o.remove_endpoint(&users.id), Err(OutboxError::EndpointNotFound(users.id.clone())));
    }

    #[test]
    fn a_full_queue_records_failures_instead_of_dropping() {
        let mut o = Outbox::default();
        o.add_endpoint("http://a.test/h".into(), vec![], None, 0);
        for _ in 0..QUEUE_LIMIT {
            o.enqueue("user.created", "{}".to_owned().into(), 0, None);
        }
        let over = o.enqueue("user.created", "{}".to_owned().into(), 0, None);
        assert_eq!(over.deliveries[0].status, DeliveryStatus::Failed);
        assert!(over.deliveries[0].note.as_deref().unwrap().contains("queue full"));
        assert_eq!(o.messages.len(), QUEUE_LIMIT + 1, "recorded, not dropped");
    }

    #[test]
    fn finished_messages_beyond_the_log_limit_are_evicted_and_counted() {
        let mut o = Outbox::default();
        for _ in 0..LOG_LIMIT + 5 {
            o.enqueue("user.created", "{}".to_owned().into(), 0, None); // no endpoint: finished at once
        }
        assert_eq!((o.messages.len(), o.evicted), (LOG_LIMIT, 5));
    }

    #[test]
    fn attempts_under_way_at_a_restart_are_due_again() {
        let mut o = Outbox::default();
        o.add_endpoint("http://a.test/h".into(), vec![], None, 0);
        o.enqueue("user.created", "{}".to_owned().into(), 0, None);
        assert_eq!(o.take_due(0, 1).len(), 1);
        let mut reloaded: Outbox = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        reloaded.resume(50);
        assert_eq!(reloaded.take_due(50, 1).len(), 1);
    }
}
