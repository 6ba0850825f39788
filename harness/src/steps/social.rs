//! Social sign-in in the browser (`@client-social` scenarios): `<SignIn/>`'s provider buttons, mock-clerk's
//! consent page playing the provider (its controls: [`mock_clerk::fapi::oauth::consent`]), the SSO callback,
//! Clerk's error after a denied consent, and the external account the user ends up with at Clerk. Built on the
//! browser helpers of [`super::client`].

use futures_util::FutureExt;
use mock_clerk::fapi::oauth::{consent, provider_info};
use serde_json::Value;

use super::{Keyword, StepDef, arg};
use crate::browser::{DEFAULT_WAIT, clerk_ui};
use crate::world::ConformanceWorld;

/// The providers the steps name, as Clerk's UI names them (`Google`, `GitHub`): a pattern alternative.
macro_rules! provider_names {
    () => {
        "Google|GitHub|Microsoft|Facebook|Apple|GitLab|Discord|LinkedIn"
    };
}

/// `Google` → `google`.
fn provider_id(name: &str) -> &'static str {
    mock_clerk::fapi::oauth::PROVIDERS.iter().find(|p| p.name == name).map_or("unknown", |p| p.id)
}

impl ConformanceWorld {
    /// Clicks the provider's button on `<SignIn/>` and waits for mock-clerk's consent page.
    async fn open_consent(&mut self, provider: &str) {
        self.click(&format!("clicking the {provider} button on the sign-in page"), &clerk_ui::social_button(provider)).await;
        let name = provider_info(provider).map_or(provider, |p| p.name);
        let result = self.browser().await.text(consent::HEADING, DEFAULT_WAIT).await;
        let heading = self.in_browser(&format!("mock-clerk's {name} consent page"), result).await;
        if !heading.contains(name) {
            self.browser_fail(&format!("the consent page reads {heading:?}, not {name}")).await;
        }
    }

    /// Signs in with the provider as `email` (my names when it is my account's email): consent, Allow, back
    /// through the SSO callback until clerk-js holds a session.
    async fn sign_in_with_provider(&mut self, provider: &str, email: &str) {
        self.open_consent(provider).await;
        let first_name = self.account.as_ref().filter(|a| a.email == email).map(|a| a.first_name.clone()).unwrap_or_else(|| "Sam".into());
        self.fill("typing the email address on the consent page", consent::EMAIL, email).await;
        self.fill("typing the first name on the consent page", consent::FIRST_NAME, &first_name).await;
        self.fill("typing the last name on the consent page", consent::LAST_NAME, "Tester").await;
        self.click("clicking Allow on the consent page", consent::ALLOW).await;
        self.wait_signed_in().await;
    }

    /// My account at Clerk must hold an external account at `provider` for my email, with an access token.
    async fn expect_external_account(&mut self, provider: &str) {
        let email = self.account().email;
        let issuer = self.env.issuer.clone();
        let user = match issuer.user_by_email(&email).await {
            Ok(Some(user)) => user,
            Ok(None) => self.browser_fail(&format!("Clerk has no user with the email address {email}")).await,
            Err(e) => self.fail(&format!("reading the user {email} through the Backend API: {e}")),
        };
        let strategy = format!("oauth_{provider}");
        let accounts = user["external_accounts"].as_array().cloned().unwrap_or_default();
        let Some(account) = accounts.iter().find(|a| a["provider"] == strategy.as_str()) else {
            self.fail(&format!("{email} has no {strategy} external account at Clerk: {accounts:?}"))
        };
        if account["email_address"] != email.as_str() || account["verification"]["status"] != "verified" {
            self.fail(&format!("{email}'s {strategy} account is not verified for that email address: {account}"));
        }
        let user_id = user["id"].as_str().unwrap_or_default().to_owned();
        let tokens = issuer.oauth_access_tokens(&user_id, provider).await.unwrap_or_else(|e| self.fail(&format!("reading the access tokens: {e}")));
        let token = tokens.first().and_then(|t| t["token"].as_str()).filter(|t| !t.is_empty());
        if token.is_none() || tokens[0]["external_account_id"] != account["id"] {
            self.fail(&format!("no {strategy} access token for {email}'s external account: {tokens:?}"));
        }
        self.transcript.note(format!("{email} at Clerk: {strategy} account {} with an access token", account["id"]));
    }

    /// Clerk holds no user with my email address.
    async fn expect_no_user(&mut self) {
        let email = self.account().email;
        match self.env.issuer.user_by_email(&email).await {
            Ok(None) => {}
            Ok(Some(user)) => self.fail(&format!("Clerk holds a user {} for {email}", user.get("id").unwrap_or(&Value::Null))),
            Err(e) => self.fail(&format!("reading the user {email} through the Backend API: {e}")),
        }
    }
}

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::When,
            pattern: concat!(r#"^I sign in with ("#, provider_names!(), r#") as (my email|"[^"]+")$"#),
            run: |w, ctx| {
                async move {
                    let provider = provider_id(&arg(&ctx, 1));
                    let who = arg(&ctx, 2);
                    let email = if who == "my email" { w.account().email } else { who.trim_matches('"').to_owned() };
                    w.sign_in_with_provider(provider, &email).await;
                }
                .boxed_local()
            },
            example: "When I sign in with Google as my email",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!("^I deny the (", provider_names!(), ") consent$"),
            run: |w, ctx| {
                async move {
                    let provider = provider_id(&arg(&ctx, 1));
                    w.open_consent(provider).await;
                    w.click("clicking Deny on the consent page", consent::DENY).await;
                }
                .boxed_local()
            },
            example: "When I deny the Google consent",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r#"^the sign-in page shows Clerk's alert mentioning "([^"]+)"$"#,
            run: |w, ctx| {
                async move {
                    let word = arg(&ctx, 1).to_lowercase();
                    let result = w.browser().await.text(clerk_ui::CARD_ERROR, DEFAULT_WAIT).await;
                    let shown = w.in_browser("Clerk's alert on the sign-in page", result).await;
                    if !shown.to_lowercase().contains(&word) {
                        w.browser_fail(&format!("the sign-in page's alert reads {shown:?}, which does not mention {word:?}")).await;
                    }
                }
                .boxed_local()
            },
            example: r#"Then the sign-in page shows Clerk's alert mentioning "grant access""#,
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: concat!("^my account at Clerk has a (", provider_names!(), ") external account with an access token$"),
            run: |w, ctx| {
                async move {
                    let provider = provider_id(&arg(&ctx, 1));
                    w.expect_external_account(provider).await;
                }
                .boxed_local()
            },
            example: "Then my account at Clerk has a Google external account with an access token",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^Clerk has no account with my email$",
            run: |w, _ctx| w.expect_no_user().boxed_local(),
            example: "Then Clerk has no account with my email",
        },
    ]
}
