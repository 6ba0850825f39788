//! What I do in the app: open pages, fetch API routes, sign out, ask for the RSC payload.

use futures_util::FutureExt;

use super::{Keyword, StepDef, arg};
use crate::agent::Mode;

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I open (/\S*)$",
            run: |w, ctx| {
                async move {
                    w.go("GET", &arg(&ctx, 1), Mode::Page).await;
                }
                .boxed_local()
            },
            example: "When I open /schedules",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I fetch (GET|POST|PUT|PATCH|DELETE) (/\S*)$",
            run: |w, ctx| {
                async move {
                    w.go(&arg(&ctx, 1), &arg(&ctx, 2), Mode::Fetch).await;
                }
                .boxed_local()
            },
            example: "When I fetch GET /api/schedules",
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
            pattern: r"^I request the RSC payload of (/\S*)$",
            run: |w, ctx| {
                async move {
                    // What the App Router fetches on a client-side navigation.
                    let url = w.url(&arg(&ctx, 1));
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
            example: "When I request the RSC payload of /schedules",
        },
    ]
}
