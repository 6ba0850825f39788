//! Who I am: signed out, signed in, my refresh cookie, my sessions at Clerk, and time passing.

use futures_util::FutureExt;
use mock_clerk::SignInRequest;
use mock_clerk::control::org_ops::OrgSignIn;
use mock_clerk::cookies::{CLIENT_UAT, SESSION};

use super::{Keyword, StepDef, num};
use crate::world::ConformanceWorld;

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef { keyword: Keyword::Given, pattern: r"^I am signed out$", run: |_w, _ctx| async {}.boxed_local(), example: "Given I am signed out" },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I am signed in$",
            run: |w, _ctx| {
                async move {
                    let signed_in = sign_in(w).await;
                    w.transcript.note(format!("signed in as {} with session {}", signed_in.user_id, signed_in.session_id));
                    w.become_me(signed_in);
                }
                .boxed_local()
            },
            example: "Given I am signed in",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I hold my refresh cookie$",
            run: |w, _ctx| {
                async move {
                    let cookie = w.me().refresh_cookie.clone();
                    let host = w.target_host();
                    w.agent.set_cookie(&host, &cookie.name, &cookie.value);
                }
                .boxed_local()
            },
            example: "Given I hold my refresh cookie",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^my session is revoked at Clerk$",
            run: |w, _ctx| {
                async move {
                    let sid = w.me().session_id.clone();
                    if let Err(e) = w.env.issuer.end_session(&sid, "revoked").await {
                        w.fail(&format!("cannot revoke {sid} at mock-clerk: {e}"));
                    }
                }
                .boxed_local()
            },
            example: "Given my session is revoked at Clerk",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^another session of mine is active$",
            run: |w, _ctx| {
                async move {
                    let user_id = w.me().user_id.clone();
                    let azp = Some(w.target_origin());
                    match w.env.issuer.sign_in_with(SignInRequest { user_id: Some(user_id), azp, ..SignInRequest::default() }).await {
                        Ok(other) => w.other = Some(other),
                        Err(e) => w.fail(&format!("cannot create a second session: {e}")),
                    }
                }
                .boxed_local()
            },
            example: "Given another session of mine is active",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^(\d+) seconds pass$",
            run: |w, ctx| async move { time_passes(w, num(&ctx, 1)).await }.boxed_local(),
            example: "When 120 seconds pass",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I replay my old session token$",
            run: |w, _ctx| {
                async move {
                    let old = w.token_before_sign_out.clone().unwrap_or_else(|| w.fail("no token was held before signing out"));
                    let host = w.target_host();
                    w.agent.set_cookie(&host, SESSION, &old);
                }
                .boxed_local()
            },
            example: "When I replay my old session token",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I sign in and follow the way back$",
            run: |w, _ctx| {
                async move {
                    let way_back = w.way_back.clone().unwrap_or_else(|| w.fail("no sign-in redirect with a way back was seen"));
                    let signed_in = sign_in(w).await;
                    w.become_me(signed_in);
                    let target = url::Url::parse(&w.env.target_url).expect("target URL");
                    let back = url::Url::parse(&way_back).unwrap_or_else(|_| w.fail(&format!("redirect_url {way_back:?} is not a URL")));
                    w.check(back.origin() == target.origin(), || format!("redirect_url {way_back} leaves the app"));
                    let path = format!("{}{}", back.path(), back.query().map(|q| format!("?{q}")).unwrap_or_default());
                    w.go("GET", &path, crate::agent::Mode::Page).await;
                }
                .boxed_local()
            },
            example: "When I sign in and follow the way back",
        },
    ]
}

/// A new user signed in at mock-clerk, with tokens issued to the target's origin (`azp`), as clerk-js does.
pub(super) async fn sign_in(w: &mut ConformanceWorld) -> mock_clerk::SignedIn {
    sign_in_as(w, None).await
}

/// [`sign_in`], as a member of an organization (made active on the session) when one is given.
pub(super) async fn sign_in_as(w: &mut ConformanceWorld, organization: Option<OrgSignIn>) -> mock_clerk::SignedIn {
    sign_in_with(w, SignInRequest { organization, ..SignInRequest::default() }).await
}

/// [`sign_in`] with what `req` asks for (an organization, plans, features), the token's `azp` the target's origin.
pub(super) async fn sign_in_with(w: &mut ConformanceWorld, req: SignInRequest) -> mock_clerk::SignedIn {
    let azp = Some(w.target_origin());
    match w.env.issuer.sign_in_with(SignInRequest { azp, ..req }).await {
        Ok(s) => s,
        Err(e) => w.fail(&format!("mock-clerk could not sign a user in: {e}")),
    }
}

/// "N seconds pass": a real target checks tokens against its own wall clock, so my session token and
/// `__client_uat` are re-issued as if minted N seconds ago (`/work/shared/design.md`, Time), and mock-clerk's
/// virtual clock moves N seconds for its own bookkeeping.
async fn time_passes(w: &mut ConformanceWorld, secs: u64) {
    if let Err(e) = w.env.issuer.advance_clock(secs).await {
        w.fail(&format!("cannot move mock-clerk's clock: {e}"));
    }
    let Some(token) = w.current_token() else { return };
    let older = match w.env.issuer.backdate(&token, secs).await {
        Ok(t) => t,
        Err(e) => w.fail(&format!("cannot back-date my token: {e}")),
    };
    let host = w.target_host();
    if w.agent.bearer().is_some() {
        w.agent.set_bearer(Some(older.clone()));
    } else {
        w.agent.set_cookie(&host, SESSION, &older);
    }
    if let Some(uat) = w.agent.cookie(CLIENT_UAT).and_then(|c| c.value.parse::<i64>().ok()).filter(|v| *v > 0) {
        w.agent.set_cookie(&host, CLIENT_UAT, &(uat - secs as i64).to_string());
    }
    w.token_before_time_passed = Some(older.clone());
    w.saw_token(&older);
}
