//! The delivery task: takes due deliveries from the outbox, makes at most [`MAX_IN_FLIGHT`] attempts at once,
//! records each outcome as it comes, and otherwise sleeps until the next delivery is due or it is woken.
//!
//! The attempts run inside this one task (as a set of futures, like a `buffer_unordered` POST loop), so a
//! finished attempt is recorded and replaced without waking any other task; and while all [`MAX_IN_FLIGHT`] are
//! under way, events queued meanwhile do not wake it at all (their notification waits until there is room).

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Notify;

use super::outbox::{Attempt, Job};
use super::{MAX_IN_FLIGHT, Shared, Webhooks, delivery};

/// Runs until the webhooks are dropped: it holds them only through attempts under way.
pub(super) async fn run(shared: Weak<Shared>, wake: Arc<Notify>) {
    let mut in_flight = FuturesUnordered::new();
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let webhooks = Webhooks { shared: strong };
        let now = webhooks.wall_ms();
        let room = MAX_IN_FLIGHT - in_flight.len();
        let mut next_due = None;
        if room > 0 {
            let mut outbox = webhooks.outbox();
            let jobs = outbox.take_due(now, room);
            if jobs.len() < room {
                next_due = outbox.next_due();
            }
            drop(outbox);
            for job in jobs {
                let webhooks = webhooks.clone();
                in_flight.push(async move {
                    let attempt = webhooks.attempt(&job).await;
                    (webhooks, job, attempt)
                });
            }
        }
        drop(webhooks);
        let room = in_flight.len() < MAX_IN_FLIGHT;
        let wait = next_due.map_or(Duration::from_secs(3600), |due| Duration::from_millis(due.saturating_sub(now).max(0) as u64));
        tokio::select! {
            Some((webhooks, job, attempt)) = in_flight.next(), if !in_flight.is_empty() => webhooks.record(&job, attempt),
            () = wake.notified(), if room => {}
            () = tokio::time::sleep(wait), if room => {}
        }
    }
}

impl Webhooks {
    async fn attempt(&self, job: &Job) -> Attempt {
        let client = self.shared.client.get_or_init(delivery::client).clone();
        let secrets = [job.secret.clone().unwrap_or_else(|| self.shared.secret.clone())];
        let attempt = delivery::attempt(&client, job, &secrets, self.options().timeout, self.wall_ms()).await;
        tracing::info!(url = %job.url, message = %job.message_id, status = ?attempt.status_code, error = ?attempt.error, latency_ms = attempt.latency_ms, "webhook attempt");
        attempt
    }

    /// Records an outcome (the task itself takes what is due next: no wake-up).
    fn record(&self, job: &Job, attempt: Attempt) {
        let retry_scale = self.options().retry_scale;
        let now = self.wall_ms();
        let mut outbox = self.outbox();
        outbox.record(job, attempt, now, retry_scale);
        self.save(&outbox);
    }
}
