//! A real headless Chromium, driven over the Chrome DevTools Protocol with `chromiumoxide`, for the client
//! layer: clerk-js, Clerk's UI components and the app's hooks run as they do for users.
//!
//! Why `chromiumoxide` (CDP) and not `fantoccini` (WebDriver): it needs nothing but the browser — no
//! chromedriver whose version must match Chromium's (Debian ships it as a separate package) and no second
//! process to start and stop — and CDP gives the two things a failing client-layer check must show and
//! WebDriver does not: every console message and uncaught exception, and every network request with its
//! status (what clerk-js asked of the Frontend API). The price is a longer first compile of the generated
//! protocol types.
//!
//! Chromium is found through `CHROME` (a path) or on `PATH` (`chromium`, `chromium-browser`, `google-chrome`,
//! `google-chrome-stable`); without it [`Browser::launch`] fails with a message naming the fix
//! (`apt-get install chromium`), never a silent skip. Each browser gets a fresh profile directory, removed when
//! it is dropped, and runs with the flags a root CI container needs (`--no-sandbox`, …).

mod record;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chromiumoxide::browser::BrowserConfig;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Element, Page};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

pub mod clerk_ui;

pub use record::{ConsoleLine, NetworkEntry, Recorder};

/// How long a single wait lasts unless the caller says otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);
/// Executable names looked up on `PATH`, in order.
pub const CHROMIUM_NAMES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
/// The flags every launch passes (besides chromiumoxide's defaults and `--headless`).
pub const FLAGS: [&str; 7] = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/// What went wrong with the browser.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// No Chromium to run.
    #[error("no Chromium found ({searched}). Install it (Debian/Ubuntu: `apt-get install -y chromium`) or set CHROME to the browser's path")]
    ChromiumNotFound {
        /// Where it was looked for.
        searched: String,
    },
    /// Chromium did not start or the DevTools connection failed.
    #[error("launching {path}: {message}")]
    Launch {
        /// The executable.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A DevTools command failed.
    #[error("{action}: {message}")]
    Cdp {
        /// What was being done.
        action: String,
        /// Why it failed.
        message: String,
    },
    /// A wait ran out.
    #[error("timed out after {waited:?} waiting for {what} (page: {url})")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
        /// The page's URL at that moment.
        url: String,
    },
    /// A file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn cdp(action: impl Into<String>) -> impl FnOnce(chromiumoxide::error::CdpError) -> BrowserError {
    let action = action.into();
    move |e| BrowserError::Cdp { action, message: e.to_string() }
}

/// The Chromium to run: `CHROME` if set, else the first of [`CHROMIUM_NAMES`] on `PATH`.
pub fn find_chromium() -> Result<PathBuf, BrowserError> {
    find_chromium_in(std::env::var_os("CHROME"), std::env::var_os("PATH"))
}

/// [`find_chromium`] with explicit `CHROME` and `PATH` values (for tests).
pub fn find_chromium_in(chrome: Option<std::ffi::OsString>, path: Option<std::ffi::OsString>) -> Result<PathBuf, BrowserError> {
    if let Some(chrome) = chrome.filter(|c| !c.is_empty()) {
        let p = PathBuf::from(&chrome);
        return if is_executable(&p) {
            Ok(p)
        } else {
            Err(BrowserError::ChromiumNotFound { searched: format!("CHROME={} is not an executable file", p.display()) })
        };
    }
    let dirs: Vec<PathBuf> = path.as_ref().map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
    for name in CHROMIUM_NAMES {
        for dir in &dirs {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    Err(BrowserError::ChromiumNotFound { searched: format!("CHROME is unset; none of {} on PATH", CHROMIUM_NAMES.join(", ")) })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A running headless Chromium with one page, recording its console and network.
#[derive(Debug)]
pub struct Browser {
    browser: chromiumoxide::Browser,
    page: Page,
    recorder: Arc<Recorder>,
    profile_dir: PathBuf,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Browser {
    /// Starts Chromium (found by [`find_chromium`]) with a fresh profile and opens a blank page.
    pub async fn launch() -> Result<Self, BrowserError> {
        let path = find_chromium()?;
        static N: AtomicU64 = AtomicU64::new(0);
        let profile_dir = std::env::temp_dir().join(format!("harness-chromium-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&profile_dir);
        std::fs::create_dir_all(&profile_dir)?;
        let launch_err = |message: String| BrowserError::Launch { path: path.clone(), message };
        let config = BrowserConfig::builder()
            .chrome_executable(&path)
            .new_headless_mode()
            .user_data_dir(&profile_dir)
            .window_size(1280, 900)
            .viewport(None)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(Duration::from_secs(30))
            .disable_https_first()
            .no_sandbox()
            // chromiumoxide adds the leading `--` itself.
            .args(FLAGS.iter().map(|f| f.trim_start_matches("--")))
            .build()
            .map_err(launch_err)?;
        let (browser, mut handler) =
            chromiumoxide::Browser::launch(config).await.map_err(|e| BrowserError::Launch { path: path.clone(), message: e.to_string() })?;
        let mut tasks = vec![tokio::spawn(async move {
            // Every DevTools message flows through the handler; an error on one message is not fatal.
            while handler.next().await.is_some() {}
        })];
        let page = browser.new_page("about:blank").await.map_err(cdp("opening a page"))?;
        let recorder = Arc::new(Recorder::default());
        tasks.extend(record::start(&page, recorder.clone()).await?);
        Ok(Self { browser, page, recorder, profile_dir, tasks })
    }

    /// The page.
    pub fn page(&self) -> &Page {
        &self.page
    }

    /// What the page printed to its console, and its uncaught exceptions, oldest first.
    pub fn console(&self) -> Vec<ConsoleLine> {
        self.recorder.console()
    }

    /// Every request the page made, oldest first, with its status once answered.
    pub fn network(&self) -> Vec<NetworkEntry> {
        self.recorder.network()
    }

    /// The requests whose URL starts with `prefix` (e.g. mock-clerk's base URL: the Frontend API calls).
    pub fn requests_to(&self, prefix: &str) -> Vec<NetworkEntry> {
        self.recorder.network().into_iter().filter(|e| e.url.starts_with(prefix)).collect()
    }

    /// Navigates to `url` and waits for the load.
    pub async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        self.page.goto(url).await.map_err(cdp(format!("navigating to {url}")))?;
        Ok(())
    }

    /// The page's current URL.
    pub async fn url(&self) -> String {
        self.page.url().await.ok().flatten().unwrap_or_default()
    }

    /// Evaluates a JavaScript expression (promises are awaited) and reads its JSON value.
    pub async fn eval<T: DeserializeOwned>(&self, expression: &str) -> Result<T, BrowserError> {
        let result = self.page.evaluate(expression).await.map_err(cdp(format!("evaluating {}", clip(expression))))?;
        result.into_value().map_err(|e| BrowserError::Cdp { action: format!("reading the value of {}", clip(expression)), message: e.to_string() })
    }

    /// Waits until `check` returns `Some`, polling every 100 ms, for at most `timeout`.
    pub async fn wait_until<T, F, Fut>(&self, what: &str, timeout: Duration, mut check: F) -> Result<T, BrowserError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let start = Instant::now();
        loop {
            if let Some(v) = check().await {
                return Ok(v);
            }
            if start.elapsed() >= timeout {
                return Err(BrowserError::Timeout { what: what.to_owned(), waited: timeout, url: self.url().await });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for a visible element matching `css`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element, BrowserError> {
        let visible = format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return false; const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; }})()",
            sel = serde_json::to_string(css).expect("a string serialises")
        );
        self.wait_until(&format!("element {css}"), timeout, || async {
            if self.eval::<bool>(&visible).await.unwrap_or(false) { self.page.find_element(css).await.ok() } else { None }
        })
        .await
    }

    /// Waits until the page's URL satisfies `predicate`, and returns it.
    pub async fn wait_for_url(&self, what: &str, timeout: Duration, predicate: impl Fn(&str) -> bool) -> Result<String, BrowserError> {
        self.wait_until(what, timeout, || async {
            let url = self.url().await;
            predicate(&url).then_some(url)
        })
        .await
    }

    /// The text of the first element matching `css`, once it is visible.
    pub async fn text(&self, css: &str, timeout: Duration) -> Result<String, BrowserError> {
        let element = self.wait_for(css, timeout).await?;
        Ok(element.inner_text().await.map_err(cdp(format!("reading the text of {css}")))?.unwrap_or_default().trim().to_owned())
    }

    /// Clicks the element matching `css` (waiting for it), like a user.
    pub async fn click(&self, css: &str) -> Result<(), BrowserError> {
        self.on_live_element(css, async |element| {
            element.scroll_into_view().await.map_err(cdp(format!("scrolling to {css}")))?;
            element.click().await.map_err(cdp(format!("clicking {css}")))?;
            Ok(())
        })
        .await
    }

    /// Types `text` into the input matching `css` (waiting for it), key by key like a user.
    pub async fn fill(&self, css: &str, text: &str) -> Result<(), BrowserError> {
        let start = Instant::now();
        let value = format!("document.querySelector({})?.value ?? ''", serde_json::Value::from(css));
        loop {
            self.type_code(css, text).await?;
            // Keys typed while React replaced or reset the field (a busy machine, a form re-rendering) are lost:
            // the field must hold exactly the text before anyone submits it. The text itself (a password) is
            // never put into the error.
            let held: String = self.eval(&value).await?;
            if held == text {
                return Ok(());
            }
            if start.elapsed() >= DEFAULT_WAIT {
                let (got, want) = (held.chars().count(), text.chars().count());
                return Err(BrowserError::Cdp {
                    action: format!("typing into {css}"),
                    message: format!("the field holds {got} characters, not the {want} typed"),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Types `text` into the field matching `css`, replacing what it held, without checking what it holds
    /// afterwards: Clerk's one-time-code field submits itself once full, then clears or leaves the page.
    pub async fn type_code(&self, css: &str, text: &str) -> Result<(), BrowserError> {
        self.on_live_element(css, async |element| {
            element.click().await.map_err(cdp(format!("focusing {css}")))?;
            // Typing replaces whatever the field held, as a user selecting it first would.
            element.call_js_fn("function() { this.select(); }", false).await.map_err(cdp(format!("selecting the text of {css}")))?;
            element.type_str(text).await.map_err(cdp(format!("typing into {css}")))?;
            Ok(())
        })
        .await
    }

    /// Runs `action` on the element matching `css`, again on a fresh match when React replaced the element
    /// meanwhile (a form re-rendering between two screens of `<SignIn/>`), for at most [`DEFAULT_WAIT`].
    async fn on_live_element(&self, css: &str, action: impl AsyncFn(Element) -> Result<(), BrowserError>) -> Result<(), BrowserError> {
        let start = Instant::now();
        loop {
            let element = self.wait_for(css, DEFAULT_WAIT.saturating_sub(start.elapsed())).await?;
            match action(element).await {
                Err(BrowserError::Cdp { message, .. }) if is_stale(&message) && start.elapsed() < DEFAULT_WAIT => tokio::time::sleep(POLL).await,
                other => return other,
            }
        }
    }

    /// Presses a key (`Enter`, `Tab`, …) in the focused element.
    pub async fn press(&self, css: &str, key: &str) -> Result<(), BrowserError> {
        let element = self.wait_for(css, DEFAULT_WAIT).await?;
        element.press_key(key).await.map_err(cdp(format!("pressing {key} in {css}")))?;
        Ok(())
    }

    /// The browser's cookies for every site, as `(name, value, domain)`.
    pub async fn cookies(&self) -> Result<Vec<(String, String, String)>, BrowserError> {
        let cookies = self.page.get_cookies().await.map_err(cdp("reading cookies"))?;
        Ok(cookies.into_iter().map(|c| (c.name, c.value, c.domain)).collect())
    }

    /// A PNG screenshot of the page, written to `path`.
    pub async fn screenshot(&self, path: &Path) -> Result<PathBuf, BrowserError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let png = self.page.screenshot(ScreenshotParams::builder().full_page(true).build()).await.map_err(cdp("taking a screenshot"))?;
        std::fs::write(path, png)?;
        Ok(path.to_path_buf())
    }

    /// A report for a failed check: the URL, the console, the cookies, and the requests to `fapi_prefix` with their statuses.
    pub async fn report(&self, fapi_prefix: &str) -> String {
        use std::fmt::Write as _;
        let mut out = format!("page: {}\n", self.url().await);
        let _ = writeln!(out, "console ({} lines):", self.console().len());
        for line in self.console() {
            let _ = writeln!(out, "  [{}] {}", line.level, clip_long(&line.text, 400));
        }
        match self.cookies().await {
            Ok(cookies) => {
                let _ = writeln!(out, "cookies ({}; JWT signatures redacted):", cookies.len());
                for (name, value, domain) in cookies {
                    let _ = writeln!(out, "  {name}={} (domain {domain})", clip_long(&crate::transcript::redact(&value, &[]), 600));
                }
            }
            Err(e) => {
                let _ = writeln!(out, "cookies: {e}");
            }
        }
        let calls = self.requests_to(fapi_prefix);
        let _ = writeln!(out, "requests to {fapi_prefix} ({}):", calls.len());
        for e in calls {
            let _ = writeln!(out, "  {e}");
        }
        out
    }

    /// Closes the browser and waits for the process to end.
    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        // chromiumoxide kills the child process when its `Browser` drops; the profile goes with it.
        let _ = std::fs::remove_dir_all(&self.profile_dir);
    }
}

/// A DevTools error saying the element went away (replaced by a re-render) between finding and using it.
fn is_stale(message: &str) -> bool {
    ["detached", "Could not find node", "No node with given id", "not attached"].iter().any(|m| message.contains(m))
}

fn clip(text: &str) -> String {
    clip_long(text, 80)
}

fn clip_long(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_chromium_names_the_fix() {
        let err = find_chromium_in(None, Some("/nonexistent-dir".into())).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("apt-get install -y chromium") && text.contains("CHROME"), "{text}");
        let err = find_chromium_in(Some("/nonexistent/chrome".into()), None).unwrap_err();
        assert!(err.to_string().contains("CHROME=/nonexistent/chrome"), "{err}");
    }

    #[test]
    fn chrome_wins_over_path() {
        let sh = PathBuf::from("/bin/sh");
        assert_eq!(find_chromium_in(Some(sh.clone().into()), Some("/usr/bin".into())).unwrap(), sh);
    }
}
