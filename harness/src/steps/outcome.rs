//! What I see: pages, statuses, redirects to sign in, cookies, my session at Clerk, leaked secrets.

use futures_util::FutureExt;
use url::Url;

use super::{Keyword, StepDef, arg, num, opt};
use crate::agent::{Hop, Mode, Navigation};
use crate::downstream::{DATA_MARKER_PREFIX, data_marker};
use crate::place_pattern;
use crate::profile::NonPageAnswer;
use crate::world::ConformanceWorld;

/// What counts as arriving at sign in.
#[derive(Debug, Clone, Copy)]
pub(super) struct SignInPage {
    /// Also a step of the sign-in flow below the sign-in path (`/auth/sign-in/tasks`): the documented
    /// `<SignIn routing="path" path="/auth/sign-in">` renders them all.
    pub flow: bool,
    /// The navigation must end on that page with a 200.
    pub final_ok: bool,
}

impl SignInPage {
    /// The profile's sign-in path only, any final status.
    pub const EXACT: SignInPage = SignInPage { flow: false, final_ok: false };

    fn matches(self, sign_in: &str, path: &str) -> bool {
        path == sign_in || (self.flow && path.strip_prefix(sign_in).is_some_and(|rest| rest.starts_with('/')))
    }
}

/// The `redirect_url` of the hop that sent the browser to the sign-in page.
fn sign_in_redirect(w: &ConformanceWorld, nav: &Navigation, page: SignInPage) -> Option<String> {
    let sign_in = w.env.profile.sign_in_path.clone();
    nav.hops().iter().find_map(|hop| {
        let location = Url::parse(&hop.url).ok()?.join(hop.location.as_deref()?).ok()?;
        if !page.matches(&sign_in, location.path()) {
            return None;
        }
        location.query_pairs().find(|(k, _)| k == "redirect_url").map(|(_, v)| v.into_owned())
    })
}

/// `/path?query` of a URL.
pub(super) fn path_and_query(url: &Url) -> String {
    format!("{}{}", url.path(), url.query().map(|q| format!("?{q}")).unwrap_or_default())
}

fn sign_out_hop<'a>(w: &ConformanceWorld, nav: &'a Navigation) -> Option<&'a Hop> {
    let path = w.env.profile.sign_out_path.clone();
    nav.hops().iter().find(|h| Url::parse(&h.url).is_ok_and(|u| u.path() == path))
}

/// The navigation went to the sign-in page with a `redirect_url` leading back to `expected` on this app, and
/// ended there; remembers the way back.
pub(super) fn assert_sent_to_sign_in(w: &mut ConformanceWorld, nav: &Navigation, expected: &str, page: SignInPage) {
    let Some(back) = sign_in_redirect(w, nav, page) else {
        w.fail(&format!("I was not sent to sign in: the request ended with {} at {}", nav.status(), nav.final_url()))
    };
    let target = Url::parse(&w.env.target_url).expect("target URL");
    let back_url = Url::parse(&back).or_else(|_| target.join(&back)).unwrap_or_else(|_| w.fail(&format!("redirect_url {back:?} is not a URL")));
    w.check(back_url.origin() == target.origin(), || format!("redirect_url {back} is not this app"));
    let way_back = path_and_query(&back_url);
    w.check(way_back == expected, || format!("redirect_url leads back to {way_back}, not {expected}"));
    let final_path = Url::parse(nav.final_url()).map(|u| u.path().to_owned()).unwrap_or_default();
    let arrived = page.matches(&w.env.profile.sign_in_path, &final_path) && (!page.final_ok || nav.status() == 200);
    w.check(arrived, || format!("after the sign-in redirect I ended at {} with {}", nav.final_url(), nav.status()));
    w.way_back = Some(back_url.to_string());
}

/// A signed-out request to a protected non-page route got what the profile says (`unauthenticated_non_page`)
/// and no API data.
fn assert_refused_non_page(w: &mut ConformanceWorld, nav: &Navigation, method: &str, path: &str) {
    let first = nav.first().clone();
    match w.env.profile.unauthenticated_non_page {
        NonPageAnswer::Redirect => assert_sent_to_sign_in(w, nav, path, SignInPage::EXACT),
        NonPageAnswer::NotFound => w.check(first.status == 404, || format!("{method} {path} answered {}, the profile says 404", first.status)),
        NonPageAnswer::Unauthorized => w.check(first.status == 401, || format!("{method} {path} answered {}, the profile says 401", first.status)),
    }
    for hop in nav.hops() {
        w.check(!hop.body.contains(DATA_MARKER_PREFIX) && !hop.body.contains(&w.marker), || {
            format!("{method} {path}: {} answered {} with API data", hop.url, hop.status)
        });
    }
}

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::Then,
            pattern: concat!("^I am sent to sign in, with a way back to ", place_pattern!(), "$"),
            run: |w, ctx| {
                async move {
                    let expected = w.place(&arg(&ctx, 1), opt(&ctx, 2).as_deref()).path;
                    let nav = w.last().clone();
                    assert_sent_to_sign_in(w, &nav, &expected, SignInPage::EXACT);
                }
                .boxed_local()
            },
            example: "Then I am sent to sign in, with a way back to the data page with the query week=42",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^I (?:am|was) not sent to sign in$",
            run: |w, _ctx| {
                async move {
                    let sent = sign_in_redirect(w, w.last(), SignInPage::EXACT).is_some();
                    w.check(!sent, || "I was sent to sign in".into());
                }
                .boxed_local()
            },
            example: "Then I am not sent to sign in",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^every protected page in the profile sends me to sign in$",
            run: |w, _ctx| {
                async move {
                    let pages = w.env.profile.protected_pages.clone();
                    w.check(!pages.is_empty(), || "the profile lists no protected pages".into());
                    for page in pages {
                        w.agent.clear();
                        let nav = w.go("GET", &page, Mode::Page).await.clone();
                        assert_sent_to_sign_in(w, &nav, &page, SignInPage::EXACT);
                    }
                }
                .boxed_local()
            },
            example: "Then every protected page in the profile sends me to sign in",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^every protected API route in the profile refuses me as the profile says, with no data$",
            run: |w, _ctx| {
                async move {
                    let routes = w.env.profile.protected_api_routes();
                    w.check(!routes.is_empty(), || "the profile lists no protected API routes".into());
                    for route in routes {
                        w.agent.clear();
                        let nav = w.go(&route.method, &route.path, Mode::Fetch).await.clone();
                        assert_refused_non_page(w, &nav, &route.method, &route.path);
                    }
                    let mine = w.my_api_requests().await;
                    w.check(mine.is_empty(), || format!("the API received {} request(s) while I was signed out", mine.len()));
                }
                .boxed_local()
            },
            example: "Then every protected API route in the profile refuses me as the profile says, with no data",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^every public route in the profile is served without sending me to sign in$",
            run: |w, _ctx| {
                async move {
                    let routes = w.env.profile.public_routes.clone();
                    w.check(!routes.is_empty(), || "the profile lists no public routes".into());
                    for route in routes {
                        w.agent.clear();
                        let nav = w.go("GET", &route, Mode::Page).await.clone();
                        let sent = sign_in_redirect(w, &nav, SignInPage::EXACT).is_some();
                        w.check(!sent && nav.status() == 200, || {
                            format!("the public route {route} answered {} at {} (sent to sign in: {sent})", nav.status(), nav.final_url())
                        });
                    }
                }
                .boxed_local()
            },
            example: "Then every public route in the profile is served without sending me to sign in",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^every static asset in the profile is served without a redirect$",
            run: |w, _ctx| {
                async move {
                    let assets = w.env.profile.static_assets.clone();
                    w.check(!assets.is_empty(), || "the profile lists no static assets".into());
                    for asset in assets {
                        w.agent.clear();
                        let first = w.go("GET", &asset, Mode::Page).await.first().clone();
                        w.check(!first.is_redirect(), || format!("the static asset {asset} answered {} to {:?}", first.status, first.location));
                    }
                }
                .boxed_local()
            },
            example: "Then every static asset in the profile is served without a redirect",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^(?:I am|the call is) refused as the profile says for a signed-out non-page request$",
            run: |w, _ctx| {
                async move {
                    let nav = w.last().clone();
                    let first = nav.first().clone();
                    let path = Url::parse(&first.url).map(|u| path_and_query(&u)).unwrap_or_default();
                    assert_refused_non_page(w, &nav, &first.method, &path);
                }
                .boxed_local()
            },
            example: "Then I am refused as the profile says for a signed-out non-page request",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the response status is (\d{3})$",
            run: |w, ctx| {
                async move {
                    let expected: u16 = num(&ctx, 1);
                    let status = w.last().status();
                    w.check(status == expected, || format!("the response status is {status}, not {expected}"));
                }
                .boxed_local()
            },
            example: "Then the response status is 200",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the (?:page shows|response carries) the API's data$",
            run: |w, _ctx| {
                async move {
                    let (status, body, url) = {
                        let nav = w.last();
                        (nav.status(), nav.body().to_owned(), nav.final_url().to_owned())
                    };
                    w.check(status == 200, || format!("the page answered status {status} at {url}"));
                    let mine = w.my_api_requests().await;
                    let shown = mine.iter().any(|r| body.contains(&data_marker(r.seq)));
                    let foreign = body.contains(DATA_MARKER_PREFIX);
                    w.check(shown, || {
                        if foreign {
                            "the page shows API data, but not from a request made for my session".into()
                        } else {
                            format!("the page shows no data from the API ({} API request(s) were mine)", mine.len())
                        }
                    });
                }
                .boxed_local()
            },
            example: "Then the page shows the API's data",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^I see an error$",
            run: |w, _ctx| {
                async move {
                    let status = w.last().status();
                    w.check(status >= 500, || format!("expected an error, the response status is {status}"));
                }
                .boxed_local()
            },
            example: "Then I see an error",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the response carries no API data$",
            run: |w, _ctx| {
                async move {
                    let nav = w.last().clone();
                    for hop in nav.hops() {
                        // The API's answers carry a data marker; the echo of what I sent carries my marker.
                        let leaked = hop.body.contains(DATA_MARKER_PREFIX) || hop.body.contains(&w.marker);
                        w.check(!leaked, || format!("a signed-out request got API data: {} {} answered {} with it", hop.method, hop.url, hop.status));
                    }
                }
                .boxed_local()
            },
            example: "Then the response carries no API data",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: concat!("^I land on ", place_pattern!(), "$"),
            run: |w, ctx| {
                async move {
                    let expected = w.place(&arg(&ctx, 1), opt(&ctx, 2).as_deref()).path;
                    let nav = w.last();
                    let (status, path) = (nav.status(), Url::parse(nav.final_url()).map(|u| u.path().to_owned()).unwrap_or_default());
                    w.check(status == 200 && path == expected, || format!("I ended at {path} with {status}, not on {expected}"));
                }
                .boxed_local()
            },
            example: "Then I land on the sign-in page",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^I am not sent to another host$",
            run: |w, _ctx| {
                async move {
                    let host = w.target_host();
                    let nav = w.last().clone();
                    for hop in nav.hops() {
                        let Some(location) = hop.location.as_deref() else {
                            continue;
                        };
                        let to = Url::parse(&hop.url).ok().and_then(|u| u.join(location).ok());
                        let to_host = to.as_ref().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
                        w.check(to_host == host, || format!("{} redirected to another host: {location}", hop.url));
                    }
                }
                .boxed_local()
            },
            example: "Then I am not sent to another host",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: concat!(r"^the sign-out answer is a (\d{3}) to ", place_pattern!(), "$"),
            run: |w, ctx| {
                async move {
                    let status: u16 = num(&ctx, 1);
                    let path = w.place(&arg(&ctx, 2), opt(&ctx, 3).as_deref()).path;
                    let nav = w.last().clone();
                    let hop = sign_out_hop(w, &nav).unwrap_or_else(|| w.fail("the sign-out route was not requested"));
                    let location = hop.location.clone().unwrap_or_default();
                    let to = Url::parse(&hop.url).ok().and_then(|u| u.join(&location).ok()).map(|u| u.path().to_owned());
                    w.check(hop.status == status && to.as_deref() == Some(path.as_str()), || {
                        format!("sign-out answered {} to {location:?}, not {status} to {path}", hop.status)
                    });
                }
                .boxed_local()
            },
            example: "Then the sign-out answer is a 307 to the sign-in page",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the __session cookie is deleted$",
            run: |w, _ctx| {
                async move {
                    let nav = w.last().clone();
                    let hop = sign_out_hop(w, &nav).unwrap_or_else(|| w.fail("the sign-out route was not requested"));
                    let deletion = hop.set_cookies.iter().find(|l| l.starts_with("__session=")).cloned();
                    let deleted = deletion.as_deref().is_some_and(deletes_cookie);
                    w.check(deleted, || format!("sign-out did not delete __session: Set-Cookie {deletion:?}"));
                    let left = w.agent.cookie("__session").map(|c| c.value).filter(|v| !v.is_empty());
                    w.check(left.is_none(), || "my browser still holds a __session cookie".into());
                }
                .boxed_local()
            },
            example: "Then the __session cookie is deleted",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^my session token was refreshed$",
            run: |w, _ctx| {
                async move {
                    let before = w.token_before_time_passed.clone().unwrap_or_else(|| w.fail("no earlier token to compare with"));
                    let now = w.require_token();
                    w.check(now != before, || "my session token was not replaced".into());
                    let claims = mock_clerk::tokens::decode_unverified(&now).map(|d| d.claims).unwrap_or_default();
                    let sid = w.me().session_id.clone();
                    w.check(claims["sid"] == sid.as_str(), || format!("the new token is not for my session {sid}"));
                }
                .boxed_local()
            },
            example: "Then my session token was refreshed",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^my session is revoked at Clerk$",
            run: |w, _ctx| {
                async move {
                    let sid = w.me().session_id.clone();
                    let status = w.status_at_clerk(&sid).await;
                    w.check(status == "revoked", || format!("my session is {status}, not revoked"));
                }
                .boxed_local()
            },
            example: "Then my session is revoked at Clerk",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^my other session is still active at Clerk$",
            run: |w, _ctx| {
                async move {
                    let sid = w.other.as_ref().map(|o| o.session_id.clone()).unwrap_or_else(|| w.fail("no other session"));
                    let status = w.status_at_clerk(&sid).await;
                    w.check(status == "active", || format!("my other session is {status}"));
                }
                .boxed_local()
            },
            example: "Then my other session is still active at Clerk",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^Clerk recorded exactly one revoke, for my session$",
            run: |w, _ctx| {
                async move {
                    let sid = w.me().session_id.clone();
                    let calls = w.env.issuer.revoke_calls(&sid).await.unwrap_or_else(|e| w.fail(&format!("cannot read mock-clerk's log: {e}")));
                    w.check(calls == 1, || format!("mock-clerk received {calls} revoke(s) for my session"));
                    if let Some(other) = w.other.clone() {
                        let others = w
                            .env
                            .issuer
                            .revoke_calls(&other.session_id)
                            .await
                            .unwrap_or_else(|e| w.fail(&format!("cannot read mock-clerk's log: {e}")));
                        w.check(others == 0, || "my other session was revoked too".into());
                    }
                }
                .boxed_local()
            },
            example: "Then Clerk recorded exactly one revoke, for my session",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^no response body contained my session token$",
            run: |w, _ctx| {
                async move {
                    let tokens = w.tokens_seen.clone();
                    for nav in w.navigations.clone() {
                        for hop in nav.hops() {
                            // The token in a cookie header is Clerk's design; in a body it reaches page scripts.
                            let leaked = tokens.iter().any(|t| hop.body.contains(t.as_str()) || hop.body.contains(signature_of(t)));
                            w.check(!leaked, || format!("{} {} put my session token in its body", hop.status, hop.url));
                        }
                    }
                }
                .boxed_local()
            },
            example: "Then no response body contained my session token",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^no response contained the secret key$",
            run: |w, _ctx| {
                async move {
                    let secret = w.env.secret_key.clone();
                    for nav in w.navigations.clone() {
                        for hop in nav.hops() {
                            let in_headers = hop.headers.iter().any(|(_, v)| v.contains(&secret));
                            w.check(!hop.body.contains(&secret) && !in_headers, || format!("{} {} exposed the secret key", hop.status, hop.url));
                        }
                    }
                }
                .boxed_local()
            },
            example: "Then no response contained the secret key",
        },
    ]
}

/// The signature part of a JWT (unique to the token; survives re-encoding of header and payload).
fn signature_of(jwt: &str) -> &str {
    jwt.rsplit('.').next().filter(|s| s.len() > 20).unwrap_or(jwt)
}

/// Whether a `Set-Cookie` line deletes its cookie (`Max-Age=0` or `Expires` in the past).
fn deletes_cookie(line: &str) -> bool {
    line.split(';').skip(1).any(|attr| {
        let (name, value) = attr.trim().split_once('=').unwrap_or((attr.trim(), ""));
        (name.eq_ignore_ascii_case("max-age") && value.trim().parse::<i64>().is_ok_and(|v| v <= 0))
            || (name.eq_ignore_ascii_case("expires") && crate::agent::parse_cookie_date(value).is_some_and(|t| t < crate::agent::now_secs()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_deletion_forms() {
        assert!(deletes_cookie("__session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
        assert!(deletes_cookie("__session=; Path=/; Max-Age=0"));
        assert!(!deletes_cookie("__session=x; Path=/; SameSite=Lax"));
        assert!(!deletes_cookie("__session=x; Max-Age=60"));
    }
}
