//! Sign-in links and impersonation in a real browser (`@client` scenarios): a sign-in token's URL (the
//! Backend API's `url`, `…/v1/tickets/accept?ticket=…`) followed by the browser lands on the app's sign-in
//! page with `__clerk_ticket`, where `<SignIn/>` redeems it; an actor token's URL signs the browser in as me,
//! acted on by an admin, which the app must show (`useAuth().actor`, the profile's `[client] actor`). Revoked
//! and expired links are refused with Clerk's error.

use futures_util::FutureExt;

use super::{Keyword, StepDef, arg};
use crate::browser::DEFAULT_WAIT;
use crate::world::ConformanceWorld;

/// The admin (`actor.sub`) who impersonates me.
pub const ADMIN_SUB: &str = "user_admin_conformance";
/// How long the links of these scenarios live.
const LINK_LIFETIME_SECS: i64 = 600;
/// How long the link of the expiry scenario lives. It expires in real time: moving mock-clerk's clock instead
/// would put the client's `updated_at` (hence `__client_uat`) ahead of every later token's `iat`.
const SHORT_LINK_LIFETIME_SECS: i64 = 1;

impl ConformanceWorld {
    fn my_user_id(&self) -> String {
        self.account().user_id.unwrap_or_else(|| self.fail("the scenario has no account at Clerk: add `Given I have an account with a password`"))
    }

    /// Makes a sign-in link for my account, valid `lifetime_secs`, and keeps it; returns its id.
    async fn make_sign_in_link(&mut self, lifetime_secs: i64) -> String {
        let user_id = self.my_user_id();
        match self.env.issuer.create_sign_in_token(&user_id, lifetime_secs).await {
            Ok(link) => {
                self.transcript.note(format!("sign-in token {} for {user_id}", link.id));
                self.sign_in_link = Some(link.url);
                link.id
            }
            Err(e) => self.fail(&format!("creating a sign-in token through the Backend API: {e}")),
        }
    }

    fn sign_in_link(&self) -> String {
        self.sign_in_link.clone().unwrap_or_else(|| self.fail("the scenario has no sign-in link: add `Given my sign-in link has been revoked`"))
    }

    /// Opens an absolute URL (a link from an email), as a user clicking it would.
    async fn follow_link(&mut self, what: &str, url: &str) {
        let shown = url.split_once("ticket=").map_or_else(|| url.to_owned(), |(before, _)| format!("{before}ticket=[redacted]"));
        self.transcript.note(format!("opening {what}: {shown}"));
        if let Err(e) = self.browser().await.goto(url).await {
            self.transcript.note(format!("opening {what}: {e}"));
        }
    }
}

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I sign in with a sign-in link$",
            run: |w, _ctx| {
                async move {
                    w.make_sign_in_link(LINK_LIFETIME_SECS).await;
                    let link = w.sign_in_link();
                    w.follow_link("my sign-in link", &link).await;
                    w.wait_signed_in().await;
                }
                .boxed_local()
            },
            example: "When I sign in with a sign-in link",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^an admin impersonates me$",
            run: |w, _ctx| {
                async move {
                    let user_id = w.my_user_id();
                    let link = match w.env.issuer.create_actor_token(&user_id, ADMIN_SUB).await {
                        Ok(link) => link,
                        Err(e) => w.fail(&format!("creating an actor token through the Backend API: {e}")),
                    };
                    w.transcript.note(format!("actor token {} for {user_id}, actor {ADMIN_SUB}", link.id));
                    w.follow_link("the impersonation link", &link.url).await;
                    w.wait_signed_in().await;
                }
                .boxed_local()
            },
            example: "When an admin impersonates me",
        },
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^my sign-in link has (been revoked|expired)$",
            run: |w, ctx| {
                async move {
                    if arg(&ctx, 1) == "been revoked" {
                        let id = w.make_sign_in_link(LINK_LIFETIME_SECS).await;
                        if let Err(e) = w.env.issuer.revoke_sign_in_token(&id).await {
                            w.fail(&format!("revoking sign-in token {id}: {e}"));
                        }
                    } else {
                        w.make_sign_in_link(SHORT_LINK_LIFETIME_SECS).await;
                        let past = std::time::Duration::from_millis(SHORT_LINK_LIFETIME_SECS.unsigned_abs() * 1000 + 200);
                        tokio::time::sleep(past).await;
                    }
                }
                .boxed_local()
            },
            example: "Given my sign-in link has been revoked",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I open my sign-in link in the browser$",
            run: |w, _ctx| {
                async move {
                    let link = w.sign_in_link();
                    w.follow_link("my sign-in link", &link).await;
                }
                .boxed_local()
            },
            example: "When I open my sign-in link in the browser",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r#"^the sign-in link is refused with Clerk's "([a-z_]+)"$"#,
            run: |w, ctx| {
                async move {
                    let code = arg(&ctx, 1);
                    let browser = w.browser().await;
                    let result = browser
                        .wait_until(&format!("the page to show {code}"), DEFAULT_WAIT, || async {
                            browser.eval::<String>("document.body ? document.body.innerText : ''").await.ok().filter(|t| t.contains(&code))
                        })
                        .await;
                    w.in_browser(&format!("the link being refused with {code}"), result).await;
                }
                .boxed_local()
            },
            example: r#"Then the sign-in link is refused with Clerk's "ticket_invalid_code""#,
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the app shows that I am impersonated by the admin$",
            run: |w, _ctx| {
                async move {
                    let Some(css) = w.client_layer().actor else { w.fail("the profile's [client] section names no actor element") };
                    w.expect_text("who impersonates me", &css, ADMIN_SUB).await;
                }
                .boxed_local()
            },
            example: "Then the app shows that I am impersonated by the admin",
        },
    ]
}
