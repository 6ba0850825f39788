//! The delivery task: takes due deliveries from the outbox, makes at most [`MAX_IN_FLIGHT`] attempts at once,
//! records each outcome as it comes, and otherwise sleeps until the next delivery is due or it is woken.
//!
//! The attempts run inside this one task (as a set of futures, like a `buffer_unordered` POST loop), so a
//! finished attempt is recorded and replaced without waking any other task; and while all [`MAX_IN_FLIGHT`] are
//! under way, events queued meanwhile do not wake it at all (their notification waits until there is room).

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::Notify;

use super::outbox::{Attempt, Job};
use super::{MAX_IN_FLIGHT, Shared, Webhooks, delivery};

/// Runs until the webhooks are dropped: it holds them only through attempts under way.
pub(super) async fn run(shared: Weak<Shared>, wake: Arc<Notify>) {
    let mut in_flight = FuturesUnordered::new();
    // One timer for the whole loop, moved only when the next due time changes (a new `sleep` per turn would add
    // and remove a timer entry per delivery).
    let far = || tokio::time::Instant::now() + Duration::from_secs(3600);
    let timer = tokio::time::sleep_until(far());
    tokio::pin!(timer);
    let mut timer_due: Option<i64> = None;
    // Attempts finished since the outbox was last locked: recorded under the same lock that takes the next jobs.
    let mut finished: Vec<(Job, Attempt)> = Vec::new();
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let webhooks = Webhooks { shared: strong };
        let now = webhooks.wall_ms();
        let room = MAX_IN_FLIGHT - in_flight.len();
        let (jobs, next_due) = {
            let mut outbox = webhooks.outbox();
            if !finished.is_empty() {
                let retry_scale = webhooks.options().retry_scale;
                for (job, attempt) in finished.drain(..) {
                    outbox.record(&job, attempt, now, retry_scale);
                }
                webhooks.save(&outbox);
            }
            let jobs = outbox.take_due(now, room);
            // With no room left, the next due time does not matter until an attempt finishes.
            let next_due = if jobs.len() < room { outbox.next_due() } else { None };
            (jobs, next_due)
        };
        for job in jobs {
            let webhooks = webhooks.clone();
            in_flight.push(async move {
                let attempt = webhooks.attempt(&job).await;
                (job, attempt)
            });
        }
        drop(webhooks);
        let room = in_flight.len() < MAX_IN_FLIGHT;
        if next_due != timer_due {
            let deadline =
                next_due.map_or_else(far, |due| tokio::time::Instant::now() + Duration::from_millis(due.saturating_sub(now).max(0) as u64));
            timer.as_mut().reset(deadline);
            timer_due = next_due;
        }
        tokio::select! {
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                finished.push(done);
                // Every other attempt already finished goes into the same record.
                while let Some(Some(done)) = in_flight.next().now_or_never() {
                    finished.push(done);
                }
            }
            () = wake.notified(), if room => {}
            () = &mut timer, if room => {
                // Due now: the next turn takes it (and sets the timer again).
                timer_due = None;
                timer.as_mut().reset(far());
            }
        }
    }
}

impl Webhooks {
    async fn attempt(&self, job: &Job) -> Attempt {
        let client = self.shared.client.get_or_init(delivery::client).clone();
        let secrets = [job.secret.clone().unwrap_or_else(|| self.shared.secret.clone())];
        let attempt = delivery::attempt(&client, job, &secrets, self.options().timeout, self.wall_ms()).await;
        tracing::info!(url = %job.url, message_id = %job.message_id, status = ?attempt.status_code, error = ?attempt.error, latency_ms = attempt.latency_ms, "webhook attempt");
        attempt
    }
}
