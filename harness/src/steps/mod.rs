//! The step library: every Gherkin step the features use, grouped by what it talks about. Steps are phrased
//! in behaviour ("I am sent to sign in"), not implementation; `features/README.md` has an example for each.
//!
//! Steps are registered explicitly (no link-time inventory), so a test binary gets exactly this collection.

mod api;
mod auth;
pub mod authorization;
mod client;
mod mfa;
mod navigation;
mod outcome;
mod security;
mod social;
mod tickets;
pub mod webhooks;

use cucumber::codegen::Regex;
use cucumber::step::{Collection, Context};
use futures_util::future::LocalBoxFuture;

use crate::world::ConformanceWorld;

/// A step function.
pub type StepFn = for<'a> fn(&'a mut ConformanceWorld, Context) -> LocalBoxFuture<'a, ()>;

/// Which keyword a step answers to.
#[derive(Debug, Clone, Copy)]
pub enum Keyword {
    /// `Given`.
    Given,
    /// `When`.
    When,
    /// `Then`.
    Then,
}

/// One step definition: keyword, pattern (a regex anchored at both ends), function, and an example.
pub struct StepDef {
    /// The keyword.
    pub keyword: Keyword,
    /// The pattern.
    pub pattern: &'static str,
    /// The function.
    pub run: StepFn,
    /// An example use, for the step reference.
    pub example: &'static str,
}

/// Every step definition.
pub fn definitions() -> Vec<StepDef> {
    let mut all = Vec::new();
    all.extend(auth::definitions());
    all.extend(navigation::definitions());
    all.extend(api::definitions());
    all.extend(outcome::definitions());
    all.extend(security::definitions());
    all.extend(client::definitions());
    all.extend(social::definitions());
    all.extend(tickets::definitions());
    all.extend(mfa::definitions());
    all.extend(webhooks::definitions());
    all.extend(authorization::definitions());
    all
}

/// The steps whose seeded defects live in the Next.js app, not the reference app: the browser steps (`@client`
/// scenarios), the webhook handler's (`@webhooks`; the reference app has no handler) and authorization's
/// (`@authorization`; the reference app has no organizations or machine routes).
pub fn nextjs_definitions() -> Vec<StepDef> {
    let mut all = client::definitions();
    all.extend(social::definitions());
    all.extend(tickets::definitions());
    all.extend(mfa::definitions());
    all.extend(webhooks::definitions());
    all.extend(authorization::definitions());
    all
}

/// The definition of `keyword` whose pattern matches a step's text (with or without its keyword).
pub fn find(keyword: Keyword, text: &str) -> Option<StepDef> {
    let text = crate::profile::step_text(text);
    definitions()
        .into_iter()
        .filter(|d| std::mem::discriminant(&d.keyword) == std::mem::discriminant(&keyword))
        .find(|d| Regex::new(d.pattern).is_ok_and(|re| re.is_match(text)))
}

/// The step collection for cucumber.
pub fn collection() -> Collection<ConformanceWorld> {
    definitions().into_iter().fold(Collection::new(), |c, d| {
        let regex = Regex::new(d.pattern).unwrap_or_else(|e| panic!("step pattern {:?}: {e}", d.pattern));
        match d.keyword {
            Keyword::Given => c.given(None, regex, d.run),
            Keyword::When => c.when(None, regex, d.run),
            Keyword::Then => c.then(None, regex, d.run),
        }
    })
}

/// The `n`th capture of a step's match.
pub(crate) fn arg(ctx: &Context, n: usize) -> String {
    ctx.matches.get(n).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// The `n`th capture, when that optional group matched.
pub(crate) fn opt(ctx: &Context, n: usize) -> Option<String> {
    ctx.matches.get(n).map(|(_, v)| v.clone()).filter(|v| !v.is_empty())
}

/// A numeric capture.
pub(crate) fn num<T: std::str::FromStr>(ctx: &Context, n: usize) -> T {
    let text = arg(ctx, n);
    text.parse().unwrap_or_else(|_| panic!("step argument {n} ({text:?}) is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_matches_its_example() {
        for d in definitions() {
            let regex = Regex::new(d.pattern).unwrap();
            let text = d.example.split_once(' ').map(|(_, rest)| rest).unwrap_or(d.example);
            assert!(regex.is_match(text), "{:?} does not match its example {:?}", d.pattern, d.example);
        }
    }

    #[test]
    fn no_step_text_matches_two_patterns_of_one_keyword() {
        let defs = definitions();
        for d in &defs {
            let text = d.example.split_once(' ').map(|(_, rest)| rest).unwrap_or(d.example);
            let matching = defs
                .iter()
                .filter(|o| std::mem::discriminant(&o.keyword) == std::mem::discriminant(&d.keyword))
                .filter(|o| Regex::new(o.pattern).unwrap().is_match(text))
                .count();
            assert_eq!(matching, 1, "{:?} is ambiguous", d.example);
        }
    }
}
