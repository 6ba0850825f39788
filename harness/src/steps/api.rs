//! The app's downstream API: scripting its answers and checking what it received.

use futures_util::FutureExt;

use super::{Keyword, StepDef, arg, num, opt};
use crate::downstream::{ScriptRule, gaps_ms};
use crate::place_pattern;
use crate::world::ConformanceWorld;

/// The API call behind a place (`the data page`, `the GET API route`), or a failure naming what is missing.
fn call_behind(w: &ConformanceWorld, name: &str, query: Option<&str>) -> (String, String) {
    let place = w.place(name, query);
    place.downstream.unwrap_or_else(|| w.fail(&format!("the profile names no API call behind {name}: use data_page or api_routes")))
}

/// "the API received N … each with my bearer token", for `method path` downstream.
async fn received_with_my_token(w: &mut ConformanceWorld, count: usize, method: &str, path: &str) {
    let token = w.require_token();
    let mine = w.my_api_requests().await;
    let calls: Vec<_> = mine.iter().filter(|r| r.is(method, path)).collect();
    w.check(calls.len() == count, || format!("expected {count} {method} {path}, the API received {}", calls.len()));
    for call in calls {
        w.check(call.bearer() == Some(token.as_str()), || {
            let carried = match call.bearer() {
                None => "no token",
                Some(_) if call.session().is_none() => "a token that names no session",
                Some(_) => "another token",
            };
            format!("{method} {path} #{} carried {carried}, not my current session token", call.seq)
        });
    }
}

async fn script(w: &mut ConformanceWorld, rule: ScriptRule) {
    let rule = rule.for_session(w.me().session_id.clone());
    if let Err(e) = w.env.downstream.script(rule).await {
        w.fail(&format!("cannot script the downstream double: {e}"));
    }
}

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::Given,
            pattern: concat!(r"^the API fails the next (\d+) calls? behind ", place_pattern!(), r" with (\d{3})$"),
            run: |w, ctx| {
                async move {
                    let (method, path) = call_behind(w, &arg(&ctx, 2), opt(&ctx, 3).as_deref());
                    script(w, ScriptRule::fail(&method, &path, num(&ctx, 1), num(&ctx, 4))).await;
                }
                .boxed_local()
            },
            example: "Given the API fails the next 2 calls behind the PUT API route with 503",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: concat!(r"^the API fails the next (\d+) calls? behind ", place_pattern!(), r" with (\d{3}) and Retry-After (\d+)$"),
            run: |w, ctx| {
                async move {
                    let (method, path) = call_behind(w, &arg(&ctx, 2), opt(&ctx, 3).as_deref());
                    script(w, ScriptRule::fail(&method, &path, num(&ctx, 1), num(&ctx, 4)).retry_after(num(&ctx, 5))).await;
                }
                .boxed_local()
            },
            example: "Given the API fails the next 1 call behind the GET API route with 429 and Retry-After 1",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the API received no request$",
            run: |w, _ctx| {
                async move {
                    let mine = w.my_api_requests().await;
                    w.check(mine.is_empty(), || format!("the API received {} request(s) for this scenario", mine.len()));
                }
                .boxed_local()
            },
            example: "Then the API received no request",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: concat!(r"^the API received (\d+) calls? behind ", place_pattern!(), ", each with my bearer token$"),
            run: |w, ctx| {
                async move {
                    let (method, path) = call_behind(w, &arg(&ctx, 2), opt(&ctx, 3).as_deref());
                    received_with_my_token(w, num(&ctx, 1), &method, &path).await;
                }
                .boxed_local()
            },
            example: "Then the API received 3 calls behind the data page, each with my bearer token",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^each API request had Content-Type application/json$",
            run: |w, _ctx| {
                async move {
                    let mine = w.my_api_requests().await;
                    w.check(!mine.is_empty(), || "the API received no request".into());
                    for r in &mine {
                        let ct = r.header("content-type").unwrap_or_default().to_owned();
                        w.check(ct.starts_with("application/json"), || format!("{} {} had Content-Type {ct:?}", r.method, r.path));
                    }
                }
                .boxed_local()
            },
            example: "Then each API request had Content-Type application/json",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the last API request carried my current token$",
            run: |w, _ctx| {
                async move {
                    let token = w.require_token();
                    let mine = w.my_api_requests().await;
                    let last = mine.last().unwrap_or_else(|| w.fail("the API received no request"));
                    w.check(last.bearer() == Some(token.as_str()), || {
                        format!("the last API call ({} {}) did not carry my current token", last.method, last.path)
                    });
                }
                .boxed_local()
            },
            example: "Then the last API request carried my current token",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^no API request carried an earlier token$",
            run: |w, _ctx| {
                async move {
                    let token = w.require_token();
                    let mine = w.my_api_requests().await;
                    for r in &mine {
                        w.check(r.bearer() == Some(token.as_str()), || format!("{} {} carried an earlier or foreign token", r.method, r.path));
                    }
                }
                .boxed_local()
            },
            example: "Then no API request carried an earlier token",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the waits between API attempts grow$",
            run: |w, _ctx| {
                async move {
                    let mine = w.my_api_requests().await;
                    let gaps = gaps_ms(mine.iter());
                    w.check(gaps.len() >= 2, || format!("need at least 3 attempts to compare waits, got gaps {gaps:?}"));
                    w.check(gaps[0] >= 50, || format!("no wait before the first retry: gaps {gaps:?} ms"));
                    w.check(gaps.windows(2).all(|p| p[1] > p[0]), || format!("waits between attempts do not grow: {gaps:?} ms"));
                }
                .boxed_local()
            },
            example: "Then the waits between API attempts grow",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the API attempts were at least (\d+) seconds? apart$",
            run: |w, ctx| {
                async move {
                    let secs: u64 = num(&ctx, 1);
                    let mine = w.my_api_requests().await;
                    let gaps = gaps_ms(mine.iter());
                    w.check(!gaps.is_empty(), || "fewer than two attempts".into());
                    // 50 ms of slack for timer granularity; a client ignoring Retry-After waits ~300 ms.
                    w.check(gaps.iter().all(|g| *g + 50 >= secs * 1000), || format!("attempts {gaps:?} ms apart, Retry-After said {secs} s"));
                }
                .boxed_local()
            },
            example: "Then the API attempts were at least 1 second apart",
        },
    ]
}
