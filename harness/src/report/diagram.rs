//! The sequence diagram of one scenario: browser ↔ app ↔ mock-clerk ↔ downstream API, one request arrow and one
//! answer arrow per recorded exchange (method and path; status, `Location` and the cookies set), drawn as inline
//! SVG from the transcript in its order. Labels are text nodes (escaped by maud); long ones are cut and keep
//! the whole (redacted) value in a tooltip.

use maud::{Markup, html};

use crate::transcript::Entry;

/// At most this many exchanges are drawn; the rest are counted under the diagram (the tables list them).
pub const MAX_DRAWN: usize = 150;
/// Labels longer than this many characters are cut.
const MAX_LABEL: usize = 70;
const LANE: u32 = 230;
const ROW: u32 = 20;
const TOP: u32 = 34;

/// Who took part in an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The harness's browser (agent or Chromium).
    Browser,
    /// The app under test.
    App,
    /// mock-clerk.
    MockClerk,
    /// The downstream API double.
    Downstream,
    /// Any other host.
    Other,
}

impl Party {
    /// Every lane, left to right.
    pub const ALL: [Party; 5] = [Party::Browser, Party::App, Party::MockClerk, Party::Downstream, Party::Other];

    /// The lane's title.
    pub fn name(self) -> &'static str {
        match self {
            Party::Browser => "browser",
            Party::App => "app",
            Party::MockClerk => "mock-clerk",
            Party::Downstream => "downstream API",
            Party::Other => "other host",
        }
    }
    fn lane(self) -> u32 {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0) as u32
    }
}

/// The origins of the run's parties.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// The app's origin.
    pub app: String,
    /// mock-clerk's origin.
    pub mock_clerk: String,
    /// The downstream double's origin.
    pub downstream: String,
}

fn origin(url: &str) -> String {
    url::Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
}

impl Origins {
    /// From the three base URLs.
    pub fn new(app: &str, mock_clerk: &str, downstream: &str) -> Self {
        Self { app: origin(app), mock_clerk: origin(mock_clerk), downstream: origin(downstream) }
    }
    /// Who answers `url`.
    pub fn party_of(&self, url: &str) -> Party {
        let o = origin(url);
        if o.is_empty() || o == "null" {
            Party::Other
        } else if o == self.app {
            Party::App
        } else if o == self.mock_clerk {
            Party::MockClerk
        } else if o == self.downstream {
            Party::Downstream
        } else {
            Party::Other
        }
    }
}

/// Who sent a request mock-clerk logged: Frontend API paths come from the browser, the rest from the app.
pub fn issuer_caller(path: &str) -> Party {
    const BROWSER: [&str; 6] = ["/v1/client", "/v1/environment", "/v1/dev_browser", "/v1/me", "/npm/", "/oauth"];
    if BROWSER.iter().any(|p| path.starts_with(p)) { Party::Browser } else { Party::App }
}

/// One arrow.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrow {
    /// From.
    pub from: Party,
    /// To.
    pub to: Party,
    /// The label (redacted by the caller).
    pub label: String,
    /// A request (solid) or an answer (dashed).
    pub answer: bool,
    /// The answer's status, for its colour.
    pub status: u16,
}

/// One row of the diagram.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// An arrow.
    Arrow(Arrow),
    /// A note across the lanes.
    Note(String),
}

fn path_and_query(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}{}", u.path(), u.query().map(|q| format!("?{q}")).unwrap_or_default()),
        Err(_) => url.to_owned(),
    }
}

fn cookie_names(set_cookies: &[String]) -> String {
    set_cookies.iter().map(|l| l.split('=').next().unwrap_or_default().trim()).collect::<Vec<_>>().join(", ")
}

/// The rows of a transcript's entries (at most [`MAX_DRAWN`] entries), and how many entries were left out.
pub fn rows(entries: &[Entry], origins: &Origins, red: &dyn Fn(&str) -> String) -> (Vec<Row>, usize) {
    let mut rows = Vec::new();
    for entry in entries.iter().take(MAX_DRAWN) {
        match entry {
            Entry::Hop(hop) => {
                let to = origins.party_of(&hop.url);
                rows.push(Row::Arrow(Arrow {
                    from: Party::Browser,
                    to,
                    label: red(&format!("{} {}", hop.method, path_and_query(&hop.url))),
                    answer: false,
                    status: 0,
                }));
                let mut answer = hop.status.to_string();
                if let Some(location) = &hop.location {
                    answer.push_str(&format!(" → {location}"));
                }
                if !hop.set_cookies.is_empty() {
                    answer.push_str(&format!("  set-cookie: {}", cookie_names(&hop.set_cookies)));
                }
                if let Some(reason) = hop.header("x-clerk-auth-reason") {
                    answer.push_str(&format!("  ({reason})"));
                }
                rows.push(Row::Arrow(Arrow { from: to, to: Party::Browser, label: red(&answer), answer: true, status: hop.status }));
            }
            Entry::Downstream(r) | Entry::Issuer(r) => {
                let (from, to) = match entry {
                    Entry::Downstream(_) => (Party::App, Party::Downstream),
                    _ => (issuer_caller(&r.path), Party::MockClerk),
                };
                let query = r.query.as_deref().map(|q| format!("?{q}")).unwrap_or_default();
                rows.push(Row::Arrow(Arrow { from, to, label: red(&format!("{} {}{query}", r.method, r.path)), answer: false, status: 0 }));
                rows.push(Row::Arrow(Arrow { from: to, to: from, label: r.status.to_string(), answer: true, status: r.status }));
            }
            Entry::Note(text) => rows.push(Row::Note(red(text.lines().next().unwrap_or_default()))),
        }
    }
    (rows, entries.len().saturating_sub(MAX_DRAWN))
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_LABEL {
        return text.to_owned();
    }
    format!("{}…", text.chars().take(MAX_LABEL).collect::<String>())
}

fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "ok",
        300..=399 => "redirect",
        0 => "request",
        _ => "error",
    }
}

/// The diagram as inline SVG.
pub fn svg(rows: &[Row]) -> Markup {
    let used: Vec<Party> = Party::ALL
        .into_iter()
        .filter(|p| *p != Party::Other || rows.iter().any(|r| matches!(r, Row::Arrow(a) if a.from == *p || a.to == *p)))
        .collect();
    let x = |p: Party| p.lane() * LANE + LANE / 2;
    let width = used.len() as u32 * LANE;
    let height = TOP + rows.len() as u32 * ROW + 10;
    html! {
        svg.diagram xmlns="http://www.w3.org/2000/svg" width=(width) height=(height) viewBox=(format!("0 0 {width} {height}")) role="img" {
            @for p in &used {
                text.party x=(x(*p)) y="16" text-anchor="middle" { (p.name()) }
                line.lifeline x1=(x(*p)) y1="22" x2=(x(*p)) y2=(height) {}
            }
            @for (i, row) in rows.iter().enumerate() {
                @let y = TOP + i as u32 * ROW + ROW / 2;
                @match row {
                    Row::Arrow(a) => {
                        @let (x1, x2) = (x(a.from), x(a.to));
                        @let dir: i32 = if x2 >= x1 { 1 } else { -1 };
                        @let tip = x2 as i32 - dir * 2;
                        @let class = format!("arrow {} {}", if a.answer { "answer" } else { "call" }, status_class(a.status));
                        g class=(class) {
                            title { (a.label) }
                            line x1=(x1) y1=(y) x2=(tip) y2=(y) {}
                            polygon points=(format!("{tip},{y} {},{} {},{}", tip - dir * 7, y - 4, tip - dir * 7, y + 4)) {}
                            text x=(x1.min(x2) + 6) y=(y - 3) { (cut(&a.label)) }
                        }
                    }
                    Row::Note(text) => {
                        g.note {
                            title { (text) }
                            rect x="4" y=(y - ROW / 2 + 2) width=(width - 8) height=(ROW - 4) rx="3" {}
                            text x="10" y=(y + 4) { "note: " (cut(text)) }
                        }
                    }
                }
            }
        }
    }
}
