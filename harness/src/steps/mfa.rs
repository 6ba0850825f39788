//! Second factors in a real browser (`@client` scenarios): accounts with an authenticator app (TOTP), an SMS
//! phone number or backup codes, made through the Backend API; `<SignIn/>`'s second-factor step completed with
//! the code the authenticator shows now (read through the control API, by mock-clerk's clock), the SMS code
//! mock-clerk "sent", or a backup code; a wrong code refused. Built on [`super::client`]'s helpers.

use futures_util::FutureExt;
use mock_clerk::store::NewUser;

use super::client::PASSWORD;
use super::{Keyword, StepDef, arg};
use crate::browser::{DEFAULT_WAIT, clerk_ui};
use crate::world::ConformanceWorld;

/// How many backup codes an account gets.
const BACKUP_CODES: usize = 3;

/// The scenario's backup codes (derived from its marker, so a later step knows them).
fn backup_codes(marker: &str) -> Vec<String> {
    (1..=BACKUP_CODES).map(|i| format!("{}-backup-{i}", marker.to_lowercase())).collect()
}

/// The scenario's phone number: a fictional one (`+1 201 555 01XX`), as Clerk's test mode has them.
fn phone(marker: &str) -> String {
    let n = marker.bytes().fold(0u32, |acc, b| acc.wrapping_mul(31).wrapping_add(u32::from(b))) % 100;
    format!("+1201555{:04}", 100 + n)
}

/// A six-digit code that is not `code`.
fn wrong(code: &str) -> String {
    code.chars().map(|c| c.to_digit(10).map_or('0', |d| char::from_digit((d + 5) % 10, 10).unwrap_or('0'))).collect()
}

impl ConformanceWorld {
    fn user_id(&self) -> String {
        self.account().user_id.unwrap_or_else(|| self.fail("the scenario's account was not created at Clerk"))
    }

    async fn create_account_with_second_factor(&mut self, kind: &str) {
        let mut extra = NewUser::default();
        match kind {
            "an authenticator app" => extra.totp_secret = Some(mock_clerk::mfa::new_totp_secret()),
            "backup codes" => {
                // Clerk offers backup codes beside another second factor, never alone.
                extra.totp_secret = Some(mock_clerk::mfa::new_totp_secret());
                extra.backup_codes = backup_codes(&self.marker);
            }
            _ => extra.phone_number = vec![phone(&self.marker)],
        }
        let id = self.create_account_with(Some(PASSWORD), extra).await;
        if !extra_is_totp(kind)
            && let Err(e) = self.env.issuer.use_phone_for_second_factor(&id).await
        {
            self.fail(&format!("making the phone number a second factor: {e}"));
        }
    }

    /// Email and password, then waits for `<SignIn/>`'s second-factor step. A password typed while the form
    /// was still re-rendering can be lost ("Password is missing"): it is typed once more, as a user would.
    async fn enter_password_for_second_factor(&mut self) {
        self.sign_in_with_password(PASSWORD).await;
        let on_factor_two = |u: &str| u.contains("/factor-two");
        let first = self.browser().await.wait_for_url("the second-factor step", std::time::Duration::from_secs(10), on_factor_two).await;
        if first.is_err() {
            self.transcript.note("the second-factor step did not show after the password: typing the password again");
            self.fill("typing the password again", clerk_ui::PASSWORD, PASSWORD).await;
            self.click("clicking Continue after the password", clerk_ui::PRIMARY_BUTTON).await;
            let again = self.browser().await.wait_for_url("the second-factor step", DEFAULT_WAIT, on_factor_two).await;
            self.in_browser("reaching the second-factor step", again).await;
        }
    }

    async fn current_totp(&mut self) -> String {
        let id = self.user_id();
        match self.env.issuer.totp(&id).await {
            Ok(view) => {
                self.transcript.note(format!("the authenticator app shows a code valid for {} more seconds", view.seconds_left));
                view.code
            }
            Err(e) => self.fail(&format!("reading the authenticator code through the control API: {e}")),
        }
    }

    async fn complete_second_factor(&mut self, how: &str) {
        match how {
            "my authenticator app" => {
                let code = self.current_totp().await;
                self.type_code("typing the authenticator code", clerk_ui::CODE, &code).await;
            }
            "a wrong authenticator code" => {
                let code = wrong(&self.current_totp().await);
                self.type_code("typing a wrong authenticator code", clerk_ui::CODE, &code).await;
                return;
            }
            "an SMS code" => {
                let to = phone(&self.marker);
                self.enter_sent_code(&to).await;
            }
            _ => {
                self.click("clicking Use another method", clerk_ui::USE_ANOTHER_METHOD).await;
                self.click("choosing a backup code", clerk_ui::BACKUP_CODE_METHOD).await;
                let code = backup_codes(&self.marker).remove(0);
                self.fill("typing a backup code", clerk_ui::BACKUP_CODE, &code).await;
                self.click("clicking Continue after the backup code", clerk_ui::PRIMARY_BUTTON).await;
            }
        }
        self.wait_signed_in().await;
    }
}

impl ConformanceWorld {
    /// Moves mock-clerk's clock, then has clerk-js fetch a fresh session token (`getToken({ skipCache: true })`
    /// sets the `__session` cookie), so the app sees factor ages of the new time.
    async fn move_clock_and_refresh(&mut self, minutes: u64) {
        if let Err(e) = self.env.issuer.advance_clock(minutes * 60).await {
            self.fail(&format!("cannot move mock-clerk's clock: {e}"));
        }
        let script = "window.Clerk.session.getToken({ skipCache: true }).then(t => t ? JSON.parse(atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).fva || null : null)";
        let result = self.browser().await.eval::<Option<[i64; 2]>>(script).await;
        let fva = self.in_browser("clerk-js fetching a fresh session token", result).await;
        self.transcript.note(format!("after moving the clock {minutes} minutes, the fresh token's fva is {fva:?}"));
    }

    /// Calls the app's reverification route from the page: its status and body.
    async fn call_reverification_route(&mut self) -> (u16, String) {
        let Some(path) = self.client_layer().reverification_route else { self.fail("the profile's [client] section names no reverification_route") };
        let (status, body) = self.fetch_body_from_page(&path).await;
        self.transcript.note(format!("GET {path} from the page: {status} {body}"));
        (status, body)
    }
}

/// Whether a body is Clerk's reverification error (`reverificationError()` of `@clerk/shared`).
fn is_reverification_error(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body)
        .is_ok_and(|v| v["clerk_error"]["type"] == "forbidden" && v["clerk_error"]["reason"] == "reverification-error")
}

fn extra_is_totp(kind: &str) -> bool {
    kind != "a phone number for SMS codes"
}

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^I have an account with (an authenticator app|a phone number for SMS codes|backup codes)$",
            run: |w, ctx| {
                async move {
                    let kind = arg(&ctx, 1);
                    w.create_account_with_second_factor(&kind).await;
                }
                .boxed_local()
            },
            example: "Given I have an account with an authenticator app",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I enter my email and password on the sign-in page$",
            run: |w, _ctx| w.enter_password_for_second_factor().boxed_local(),
            example: "When I enter my email and password on the sign-in page",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^I complete the second factor with (my authenticator app|an SMS code|a backup code|a wrong authenticator code)$",
            run: |w, ctx| {
                async move {
                    let how = arg(&ctx, 1);
                    w.complete_second_factor(&how).await;
                }
                .boxed_local()
            },
            example: "When I complete the second factor with my authenticator app",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^mock-clerk's clock moves (\d+) minutes ahead and the browser gets a fresh session token$",
            run: |w, ctx| {
                async move {
                    let minutes = arg(&ctx, 1).parse().unwrap_or(0);
                    w.move_clock_and_refresh(minutes).await;
                }
                .boxed_local()
            },
            example: "When mock-clerk's clock moves 11 minutes ahead and the browser gets a fresh session token",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the app's reverification route lets me through from the page$",
            run: |w, _ctx| {
                async move {
                    let (status, body) = w.call_reverification_route().await;
                    if !(200..300).contains(&status) {
                        w.browser_fail(&format!("the reverification route answered {status} {body}, not a success")).await;
                    }
                }
                .boxed_local()
            },
            example: "Then the app's reverification route lets me through from the page",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the app's reverification route refuses me from the page with Clerk's reverification error$",
            run: |w, _ctx| {
                async move {
                    let (status, body) = w.call_reverification_route().await;
                    if status != 403 || !is_reverification_error(&body) {
                        w.browser_fail(&format!("the reverification route answered {status} {body}, not 403 with Clerk's reverification error"))
                            .await;
                    }
                }
                .boxed_local()
            },
            example: "Then the app's reverification route refuses me from the page with Clerk's reverification error",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the browser is not signed in$",
            run: |w, _ctx| {
                async move {
                    // Judged once the page has answered (the step before it waits for what the page shows).
                    let browser = w.browser().await;
                    let sid = browser.eval::<String>(clerk_ui::SESSION_ID_JS).await;
                    let sid = w.in_browser("reading clerk-js's session", sid).await;
                    let cookie = w.session_cookie().await;
                    if !sid.is_empty() || cookie.is_some() {
                        w.browser_fail(&format!("the browser is signed in: clerk-js holds session {sid:?}, __session set: {}", cookie.is_some()))
                            .await;
                    }
                }
                .boxed_local()
            },
            example: "Then the browser is not signed in",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_values_are_stable_and_well_formed() {
        assert_eq!(phone("SCN_1"), phone("SCN_1"));
        assert!(phone("SCN_1").starts_with("+1201555") && phone("SCN_1").len() == 12);
        assert_eq!(wrong("123456"), "678901");
        assert_eq!(backup_codes("AB").len(), BACKUP_CODES);
        let refused = r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#;
        assert!(is_reverification_error(refused));
        assert!(!is_reverification_error(r#"{"sensitive":"done"}"#) && !is_reverification_error("not json"));
    }
}
