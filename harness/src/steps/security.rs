//! The security battery (`features/security.feature`): forged, malformed and misplaced session tokens, and the
//! replay of an old token after sign-out.
//!
//! - "I have an account at Clerk" creates a user and an active session at mock-clerk while this browser stays
//!   signed out, so a forged token can name a real user and session: the only reason to refuse it is the forgery.
//! - A forged or malformed token in the browser comes with the cookies a real browser of that account holds
//!   next to it: `__client_uat` (never later than the token's `iat`, so `session-token-iat-before-client-uat`
//!   is not what refuses it) and, on development instances, the dev-browser cookie `__clerk_db_jwt` (so the
//!   `dev-browser-missing` handshake is not what refuses it).
//! - A non-ASCII cookie or header cannot travel through the agent (`HeaderValue::from_str` takes visible ASCII
//!   only), so those requests are sent here, with the raw UTF-8 bytes a browser sends, following redirects one
//!   hop at a time like the agent and keeping the jar up to date.

use futures_util::FutureExt;
use mock_clerk::cookies::{CLIENT_UAT, DEV_BROWSER, SESSION};
use mock_clerk::{BrokenToken, MintRequest};
use url::Url;

use super::outcome::{SignInPage, assert_sent_to_sign_in, path_and_query};
use super::{Keyword, StepDef, arg, opt};
use crate::agent::{Mode, SetCookie, now_secs};
use crate::place_pattern;
use crate::world::ConformanceWorld;

fn remember(w: &mut ConformanceWorld, token: &str) {
    w.tokens_in_play.push(token.to_owned());
}

/// A variant name as mock-clerk spells it, or a failure listing the names.
fn variant(w: &ConformanceWorld, name: &str) -> BrokenToken {
    BrokenToken::from_name(name).unwrap_or_else(|| {
        let names: Vec<&str> = BrokenToken::ALL.iter().map(|v| v.name()).collect();
        w.fail(&format!("{name:?} is not a way to forge a token; mock-clerk knows {}", names.join(", ")))
    })
}

/// A forged token for my account's user and session.
async fn forge(w: &mut ConformanceWorld, name: &str) -> String {
    let v = variant(w, name);
    let (user, session) = (w.me().user_id.clone(), w.me().session_id.clone());
    // Issued to the target's origin (`azp`), as clerk-js does: only the broken part differs from a real token.
    let req =
        MintRequest { sub: Some(user.clone()), sid: Some(session.clone()), azp: Some(w.target_origin()), broken: Some(v), ..MintRequest::default() };
    let token = match w.env.issuer.mint(req).await {
        Ok(t) => t.jwt,
        Err(e) => w.fail(&format!("mock-clerk could not forge a {name} token: {e}")),
    };
    w.transcript.note(format!("forged a {name} token for {user} / {session} (verifyToken: {})", v.clerk_reason().unwrap_or("accepted")));
    remember(w, &token);
    w.saw_token(&token);
    token
}

/// The token's `iat`, when it decodes.
fn iat_of(token: &str) -> Option<i64> {
    mock_clerk::tokens::decode_unverified(token).ok()?.claims.get("iat")?.as_i64()
}

/// Puts the cookies a browser of my account holds next to its session token: `__client_uat` (at most `iat`) and,
/// on development instances, the dev-browser cookie.
fn hold_companions(w: &mut ConformanceWorld, iat: Option<i64>) {
    let me = w.me().clone();
    let host = w.target_host();
    let signed_in_uat = me.cookies.iter().find(|c| c.name == CLIENT_UAT).and_then(|c| c.value.parse::<i64>().ok()).unwrap_or_else(now_secs);
    let uat = iat.map_or(signed_in_uat, |iat| iat.min(signed_in_uat)).max(1);
    w.agent.set_cookie(&host, CLIENT_UAT, &uat.to_string());
    if let Some(dev_browser) = me.cookies.iter().find(|c| c.name == DEV_BROWSER) {
        w.agent.set_cookie(&host, DEV_BROWSER, &dev_browser.value);
    }
}

/// The malformed values, by the name the features use; each carries the scenario's marker, so the downstream
/// log can tell whether this scenario's value reached it.
fn malformed(w: &ConformanceWorld, kind: &str) -> Vec<u8> {
    let marker = &w.marker;
    match kind {
        "not a JWT" => format!("not-a-jwt-{marker}").into_bytes(),
        "16 KiB long" => {
            // JWT-shaped (a real RS256 header), 16384 bytes in all; the payload and signature are filler.
            let header = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9";
            let rest = 16 * 1024 - header.len() - marker.len() - 2;
            format!("{header}.{marker}{}.{}", "A".repeat(rest / 2), "B".repeat(rest - rest / 2)).into_bytes()
        }
        "non-ASCII" => format!("eyJhbGciOiJSUzI1NiJ9.ünïcødé-☃-€-{marker}.sïgnätürë").into_bytes(),
        other => w.fail(&format!("unknown malformed token {other:?}")),
    }
}

/// Where a malformed value travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Cookie,
    Bearer,
}

/// A request carrying a malformed token, in the `__session` cookie or the `Authorization` header of every request
/// to the app's origin; a non-ASCII value goes as raw UTF-8 bytes, as a browser sends it.
async fn go_malformed(w: &mut ConformanceWorld, method: &str, path: &str, mode: Mode, kind: &str, carrier: Carrier) {
    let value = malformed(w, kind);
    remember(w, &String::from_utf8_lossy(&value));
    if !value.is_ascii() {
        w.transcript.note(format!(
            "sending a non-ASCII {} raw ({} bytes of UTF-8)",
            if carrier == Carrier::Cookie { "__session cookie" } else { "Bearer token" },
            value.len()
        ));
    }
    match carrier {
        Carrier::Cookie => {
            hold_companions(w, None);
            w.agent.set_raw_cookie(SESSION, Some(value));
        }
        Carrier::Bearer => w.agent.set_bearer_bytes(Some(value)),
    }
    w.go(method, path, mode).await;
}

/// `path` with `name=value` added to its query.
fn with_query(path: &str, name: &str, value: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{name}={encoded}")
}

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I have an account at Clerk$",
            run: |w, _ctx| {
                async move {
                    let account = super::auth::sign_in(w).await;
                    w.transcript.note(format!(
                        "account {} with active session {} at Clerk; this browser holds none of its cookies",
                        account.user_id, account.session_id
                    ));
                    w.me = Some(account);
                }
                .boxed_local()
            },
            example: "Given I have an account at Clerk",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^my browser holds a forged session token: ([a-z0-9-]+)$",
            run: |w, ctx| {
                async move {
                    let token = forge(w, &arg(&ctx, 1)).await;
                    hold_companions(w, iat_of(&token));
                    let host = w.target_host();
                    w.agent.set_cookie(&host, SESSION, &token);
                }
                .boxed_local()
            },
            example: "Given my browser holds a forged session token: alg-none",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I send a forged session token as a Bearer header: ([a-z0-9-]+)$",
            run: |w, ctx| {
                async move {
                    let token = forge(w, &arg(&ctx, 1)).await;
                    w.agent.set_bearer(Some(token));
                }
                .boxed_local()
            },
            example: "Given I send a forged session token as a Bearer header: foreign-key",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I replay my old session token as a Bearer header$",
            run: |w, _ctx| {
                async move {
                    let old = w.token_before_sign_out.clone().unwrap_or_else(|| w.fail("no token was held before signing out"));
                    w.agent.remove_cookie(SESSION);
                    w.agent.set_bearer(Some(old));
                }
                .boxed_local()
            },
            example: "When I replay my old session token as a Bearer header",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I replay my old session cookies$",
            run: |w, _ctx| {
                async move {
                    // What a copy of the browser's cookies taken before sign-out holds: the old token and the
                    // __client_uat that went with it (sign-out deletes __session; the handshake after it zeroes
                    // __client_uat, which alone would refuse the token before it is even verified).
                    let old = w.token_before_sign_out.clone().unwrap_or_else(|| w.fail("no token was held before signing out"));
                    let uat = w.me().cookies.iter().find(|c| c.name == CLIENT_UAT).map(|c| c.value.clone());
                    let uat = uat.unwrap_or_else(|| w.fail("my sign-in set no __client_uat"));
                    let host = w.target_host();
                    w.agent.set_cookie(&host, SESSION, &old);
                    w.agent.set_cookie(&host, CLIENT_UAT, &uat);
                }
                .boxed_local()
            },
            example: "When I replay my old session cookies",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!("^I open ", place_pattern!(), " with my session token in the query string$"),
            run: |w, ctx| {
                async move {
                    let token = w.me().token.clone();
                    remember(w, &token);
                    let place = w.place(&arg(&ctx, 1), opt(&ctx, 2).as_deref());
                    let path = with_query(&place.path, SESSION, &token);
                    w.go("GET", &path, Mode::Page).await;
                }
                .boxed_local()
            },
            example: "When I open the data page with my session token in the query string",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!("^I fetch (?:(GET|POST|PUT|PATCH|DELETE) )?", place_pattern!(), " with my session token in the query string$"),
            run: |w, ctx| {
                async move {
                    let token = w.me().token.clone();
                    remember(w, &token);
                    let place = w.place(&arg(&ctx, 2), opt(&ctx, 3).as_deref());
                    let path = with_query(&place.path, SESSION, &token);
                    w.go(&opt(&ctx, 1).unwrap_or(place.method), &path, Mode::Fetch).await;
                }
                .boxed_local()
            },
            example: "When I fetch the GET API route with my session token in the query string",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!("^I open ", place_pattern!(), " with a malformed session cookie: (not a JWT|16 KiB long|non-ASCII)$"),
            run: |w, ctx| {
                async move {
                    let place = w.place(&arg(&ctx, 1), opt(&ctx, 2).as_deref());
                    go_malformed(w, "GET", &place.path, Mode::Page, &arg(&ctx, 3), Carrier::Cookie).await
                }
                .boxed_local()
            },
            example: "When I open the data page with a malformed session cookie: 16 KiB long",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!(
                "^I fetch (?:(GET|POST|PUT|PATCH|DELETE) )?",
                place_pattern!(),
                " with a malformed session cookie: (not a JWT|16 KiB long|non-ASCII)$"
            ),
            run: |w, ctx| {
                async move {
                    let place = w.place(&arg(&ctx, 2), opt(&ctx, 3).as_deref());
                    go_malformed(w, &opt(&ctx, 1).unwrap_or(place.method), &place.path, Mode::Fetch, &arg(&ctx, 4), Carrier::Cookie).await
                }
                .boxed_local()
            },
            example: "When I fetch the GET API route with a malformed session cookie: non-ASCII",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!(
                "^I fetch (?:(GET|POST|PUT|PATCH|DELETE) )?",
                place_pattern!(),
                " with a malformed Bearer header: (not a JWT|16 KiB long|non-ASCII)$"
            ),
            run: |w, ctx| {
                async move {
                    let place = w.place(&arg(&ctx, 2), opt(&ctx, 3).as_deref());
                    go_malformed(w, &opt(&ctx, 1).unwrap_or(place.method), &place.path, Mode::Fetch, &arg(&ctx, 4), Carrier::Bearer).await
                }
                .boxed_local()
            },
            example: "When I fetch the DELETE API route with a malformed Bearer header: not a JWT",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: concat!("^I am sent to the sign-in flow, with a way back to ", place_pattern!(), "$"),
            run: |w, ctx| {
                async move {
                    let expected = w.place(&arg(&ctx, 1), opt(&ctx, 2).as_deref()).path;
                    let nav = w.last().clone();
                    assert_sent_to_sign_in(w, &nav, &expected, SignInPage { flow: true, final_ok: true });
                }
                .boxed_local()
            },
            example: "Then I am sent to the sign-in flow, with a way back to the data page",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^I am sent to sign in, with a way back to the page I opened$",
            run: |w, _ctx| {
                async move {
                    let first = Url::parse(&w.last().first().url).unwrap_or_else(|e| w.fail(&format!("the first request's URL: {e}")));
                    let nav = w.last().clone();
                    assert_sent_to_sign_in(w, &nav, &path_and_query(&first), SignInPage { flow: false, final_ok: true })
                }
                .boxed_local()
            },
            example: "Then I am sent to sign in, with a way back to the page I opened",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^my session is still active at Clerk$",
            run: |w, _ctx| {
                async move {
                    let sid = w.me().session_id.clone();
                    let status = w.status_at_clerk(&sid).await;
                    w.check(status == "active", || format!("my session is {status} at Clerk, not active"));
                    let revokes = w.env.issuer.revoke_calls(&sid).await.unwrap_or_else(|e| w.fail(&format!("cannot read mock-clerk's log: {e}")));
                    w.check(revokes == 0, || format!("the app asked Clerk to revoke my session {revokes} time(s)"));
                }
                .boxed_local()
            },
            example: "Then my session is still active at Clerk",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the API never received that token$",
            run: |w, _ctx| {
                async move {
                    let tokens = w.tokens_in_play.clone();
                    w.check(!tokens.is_empty(), || "no forged, malformed or misplaced token was put into play".into());
                    let all = w.env.downstream.requests().await.unwrap_or_else(|e| w.fail(&format!("cannot read the downstream double's log: {e}")));
                    let marker = w.marker.clone();
                    let carried: Vec<_> = all
                        .into_iter()
                        .filter(|r| r.header("authorization").is_some_and(|h| h.contains(&marker) || tokens.iter().any(|t| h.contains(t.as_str()))))
                        .collect();
                    w.transcript.push_downstream(&carried);
                    w.check(carried.is_empty(), || {
                        let calls: Vec<String> = carried.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
                        format!("the API received that token: {}", calls.join(", "))
                    });
                }
                .boxed_local()
            },
            example: "Then the API never received that token",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^Clerk issued no new session token for my session$",
            run: |w, _ctx| {
                async move {
                    let sid = w.me().session_id.clone();
                    let old = w.token_before_sign_out.clone();
                    for nav in w.navigations.clone() {
                        for hop in nav.hops() {
                            for line in &hop.set_cookies {
                                let Ok(c) = SetCookie::parse(line) else {
                                    continue;
                                };
                                let is_session = c.name == SESSION || c.name.starts_with("__session_");
                                if !is_session || c.value.is_empty() || old.as_deref() == Some(c.value.as_str()) {
                                    continue;
                                }
                                let claims = mock_clerk::tokens::decode_unverified(&c.value).map(|d| d.claims).unwrap_or_default();
                                w.check(claims["sid"] != sid.as_str(), || {
                                    format!("{} {} set a new session token for my session {sid}", hop.status, hop.url)
                                });
                            }
                        }
                    }
                }
                .boxed_local()
            },
            example: "Then Clerk issued no new session token for my session",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_appended() {
        assert_eq!(with_query("/schedules", "__session", "a.b"), "/schedules?__session=a.b");
        assert_eq!(with_query("/schedules?week=1", "__session", "a b"), "/schedules?week=1&__session=a+b");
    }

    #[test]
    fn every_forge_variant_the_feature_names_exists() {
        let feature = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../features/security.feature")).unwrap();
        let names: Vec<&str> = BrokenToken::ALL.iter().map(|v| v.name()).collect();
        for line in feature.lines().map(str::trim).filter(|l| l.starts_with('|')) {
            let first = line.trim_matches('|').split('|').next().unwrap_or_default().trim();
            if first.contains('-') && first.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                assert!(names.contains(&first), "{first} is not a mock-clerk BrokenToken");
            }
        }
    }
}
