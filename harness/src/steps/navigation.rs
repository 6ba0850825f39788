//! What I do in the app: open pages, fetch API routes, sign out, ask for the RSC payload. Paths are places:
//! a literal path, or what the profile names (`the data page`, `the PUT API route`, …).

use futures_util::FutureExt;

use super::{Keyword, StepDef, arg, opt};
use crate::agent::Mode;
use crate::place_pattern;

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::When,
            pattern: concat!("^I open ", place_pattern!(), "$"),
            run: |w, ctx| {
                async move {
                    let place = w.place(&arg(&ctx, 1), opt(&ctx, 2).as_deref());
                    w.go("GET", &place.path, Mode::Page).await;
                }
                .boxed_local()
            },
            example: "When I open the data page with the query week=42",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!("^I fetch (?:(GET|POST|PUT|PATCH|DELETE) )?", place_pattern!(), "$"),
            run: |w, ctx| {
                async move {
                    let place = w.place(&arg(&ctx, 2), opt(&ctx, 3).as_deref());
                    let method = opt(&ctx, 1).unwrap_or(place.method);
                    w.go(&method, &place.path, Mode::Fetch).await;
                }
                .boxed_local()
            },
            example: "When I fetch the PUT API route",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I sign out$",
            run: |w, _ctx| {
                async move {
                    w.token_before_sign_out = w.current_token();
                    let path = w.env.profile.sign_out_path.clone();
                    w.go("GET", &path, Mode::Page).await;
                }
                .boxed_local()
            },
            example: "When I sign out",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!("^I request the RSC payload of ", place_pattern!(), "$"),
            run: |w, ctx| {
                async move {
                    // What the App Router fetches on a client-side navigation.
                    let place = w.place(&arg(&ctx, 1), opt(&ctx, 2).as_deref());
                    let url = w.url(&place.path);
                    let headers = [("rsc", "1"), ("next-router-prefetch", "0")];
                    match w.agent.follow("GET", &url, &Mode::Fetch, None, &headers).await {
                        Ok(nav) => {
                            w.transcript.push_navigation(&nav);
                            w.navigations.push(nav);
                        }
                        Err(e) => w.fail(&format!("RSC request failed: {e}")),
                    }
                }
                .boxed_local()
            },
            example: "When I request the RSC payload of the data page",
        },
    ]
}
