//! Authorization (`@authorization` scenarios): organization roles and permissions read from the session token,
//! and machine (M2M) tokens, against the places of the profile's `[authorization]` section.
//!
//! The organizations, roles and memberships live at mock-clerk; the app sees them only through the session token's
//! `o` claim, which mock-clerk builds from the current membership at every mint. So "my role becomes …" changes
//! nothing the app can see until the token is refreshed.

use futures_util::FutureExt;

use mock_clerk::SignInRequest;
use mock_clerk::control::machines::IssuedMachineToken;
use mock_clerk::control::org_ops::OrgSignIn;
use mock_clerk::machines::TokenFormat;

use super::auth::{sign_in_as, sign_in_with};
use super::{Keyword, StepDef, arg, opt};
use crate::agent::Mode;
use crate::place_pattern;
use crate::profile::Authorization;
use crate::world::ConformanceWorld;

/// Clerk's default organization roles.
const ADMIN_ROLE: &str = "org:admin";
const MEMBER_ROLE: &str = "org:member";
/// The machine a scenario's service is, and the one it is allowed to talk to (the app's API).
const SERVICE_MACHINE: &str = "conformance-service";
const APP_MACHINE: &str = "conformance-app-api";

/// What this scenario's authorization steps hold.
#[derive(Debug, Clone, Default)]
pub struct AuthzCase {
    /// The organization I was signed in to: `(slug, id)`.
    org: Option<(String, String)>,
    /// The service's machine token.
    machine: Option<IssuedMachineToken>,
}

fn section(w: &ConformanceWorld) -> Authorization {
    w.env.profile.authorization.clone().unwrap_or_else(|| w.fail("the profile has no [authorization] section"))
}

/// The service's machine token (a step before must have issued it).
fn machine(w: &ConformanceWorld) -> IssuedMachineToken {
    w.authz.machine.clone().unwrap_or_else(|| w.fail("no service holds a machine token"))
}

/// The last answer has the status the profile gives for a refusal; `refusal` says which ("I was not refused").
fn check_refused(w: &ConformanceWorld, expected: u16, refusal: &str) {
    let status = w.last().status();
    w.check(status == expected, || format!("{refusal}: the answer is {status}, the profile says {expected}"));
}

/// The last answer's body contains `id`; `what` names it in the failure ("show my organization acme (org_…)").
fn check_shown(w: &ConformanceWorld, id: &str, what: String) {
    let (status, shown) = (w.last().status(), w.last().body().contains(id));
    w.check(shown, || format!("the answer ({status}) does not {what}"));
}

/// The claims of a session token mock-clerk just minted (empty when it cannot be decoded: the check that reads
/// them then fails).
fn claims_of(token: &str) -> serde_json::Value {
    mock_clerk::tokens::decode_unverified(token).map(|d| d.claims).unwrap_or_default()
}

/// The custom role that grants exactly the route's permission (`org:reports:read` → `org:reports_read`).
fn role_for(permission: &str) -> String {
    format!("org:{}", permission.trim_start_matches("org:").replace(':', "_"))
}

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I am signed in as (an admin|a member) of organization ([a-z0-9-]+)( with the route's permission)?$",
            run: |w, ctx| {
                async move {
                    let slug = arg(&ctx, 2);
                    let (role, permissions) = match (arg(&ctx, 1).as_str(), opt(&ctx, 3).is_some()) {
                        ("an admin", _) => (ADMIN_ROLE.to_owned(), Vec::new()),
                        (_, false) => (MEMBER_ROLE.to_owned(), Vec::new()),
                        (_, true) => {
                            let permission = section(w).permission;
                            (role_for(&permission), vec![permission])
                        }
                    };
                    let org = OrgSignIn { slug: slug.clone(), role: Some(role.clone()), permissions, ..OrgSignIn::default() };
                    let signed_in = sign_in_as(w, Some(org)).await;
                    // The organization as the app will see it: the token's `o` claim.
                    let claims = claims_of(&signed_in.token);
                    let org_id = claims["o"]["id"].as_str().map(str::to_owned);
                    let org_id = org_id.unwrap_or_else(|| w.fail(&format!("my session token has no organization claim: {}", claims["o"])));
                    w.transcript.note(format!("signed in as {} ({role} of {slug} = {org_id})", signed_in.user_id));
                    w.become_me(signed_in);
                    w.authz.org = Some((slug, org_id));
                }
                .boxed_local()
            },
            example: "Given I am signed in as a member of organization acme with the route's permission",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I am signed in on plan ([a-z0-9_-]+)$",
            run: |w, ctx| {
                async move {
                    // Clerk Billing: the user's plan is the session token's `pla` claim (`u:<plan>`), which has({ plan })
                    // reads; mock-clerk keeps it on the session, so every refreshed token carries it too.
                    let plan = arg(&ctx, 1);
                    let signed_in = sign_in_with(w, SignInRequest { plans: vec![plan.clone()], ..SignInRequest::default() }).await;
                    let claims = claims_of(&signed_in.token);
                    w.transcript.note(format!("signed in as {} on plan {plan} (pla {})", signed_in.user_id, claims["pla"]));
                    w.become_me(signed_in);
                }
                .boxed_local()
            },
            example: "Given I am signed in on plan pro",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^my role in organization ([a-z0-9-]+) becomes (org:[a-z0-9_]+)$",
            run: |w, ctx| {
                async move {
                    let (slug, role) = (arg(&ctx, 1), arg(&ctx, 2));
                    let user_id = w.me().user_id.clone();
                    if let Err(e) = w.env.issuer.set_membership_role(&slug, &user_id, &role).await {
                        w.fail(&format!("cannot change my role in {slug} to {role} at mock-clerk: {e}"));
                    }
                }
                .boxed_local()
            },
            example: "When my role in organization acme becomes org:member",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the response shows my organization$",
            run: |w, _ctx| {
                async move {
                    let (slug, id) = w.authz.org.clone().unwrap_or_else(|| w.fail("I was not signed in to an organization"));
                    check_shown(w, &id, format!("show my organization {slug} ({id})"));
                }
                .boxed_local()
            },
            example: "Then the response shows my organization",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^I am refused for lacking the right$",
            run: |w, _ctx| {
                async move {
                    check_refused(w, section(w).refused_status, "I was not refused");
                }
                .boxed_local()
            },
            example: "Then I am refused for lacking the right",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^a service holds an? (opaque|JWT) machine token$",
            run: |w, ctx| {
                async move {
                    let format = if arg(&ctx, 1) == "JWT" { TokenFormat::Jwt } else { TokenFormat::Opaque };
                    match w.env.issuer.create_m2m_token(SERVICE_MACHINE, &[APP_MACHINE], format).await {
                        Ok(t) => {
                            w.transcript.note(format!("machine {} holds {format:?} M2M token {}", t.subject, t.id));
                            w.authz.machine = Some(t);
                        }
                        Err(e) => w.fail(&format!("mock-clerk could not issue a machine token: {e}")),
                    }
                }
                .boxed_local()
            },
            example: "Given a service holds an opaque machine token",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^the machine token is revoked at Clerk$",
            run: |w, _ctx| {
                async move {
                    let token = machine(w);
                    if let Err(e) = w.env.issuer.revoke_machine_token(&token).await {
                        w.fail(&format!("cannot revoke machine token {} at mock-clerk: {e}", token.id));
                    }
                }
                .boxed_local()
            },
            example: "Given the machine token is revoked at Clerk",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!("^the service calls ", place_pattern!(), " with its token$"),
            run: |w, ctx| {
                async move {
                    let token = machine(w).token;
                    let place = w.place(&arg(&ctx, 1), opt(&ctx, 2).as_deref());
                    w.agent.set_bearer(Some(token));
                    w.go(&place.method, &place.path, Mode::Fetch).await;
                }
                .boxed_local()
            },
            example: "When the service calls the machine route with its token",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the response names the service's machine$",
            run: |w, _ctx| {
                async move {
                    let machine = machine(w).subject;
                    check_shown(w, &machine, format!("name the machine {machine}"));
                }
                .boxed_local()
            },
            example: "Then the response names the service's machine",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the call is refused as unauthorized$",
            run: |w, _ctx| {
                async move {
                    check_refused(w, section(w).machine_refused_status, "the call was not refused as unauthorized");
                }
                .boxed_local()
            },
            example: "Then the call is refused as unauthorized",
        },
    ]
}
