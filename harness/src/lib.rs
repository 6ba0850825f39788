//! # harness
//!
//! Drives any implementation of the documented Clerk behaviours over HTTP: a browser-like agent, a recording
//! downstream API double, target profiles, one interface to mock-clerk (in-process or remote), and the
//! Cucumber step library the `features/` are written in.
//!
//! | module | owns |
//! |---|---|
//! | [`agent`] | the browser-like client: cookie jar, request modes, one-hop redirects |
//! | [`downstream`] | the recording API double with scripted answers |
//! | [`issuer`] | one interface to mock-clerk, in-process or over its control API |
//! | [`profile`] | the target profile (TOML) and expected failures |
//! | [`transcript`] | what a failing scenario prints, with secrets redacted |
//! | [`process`] | child processes owned by a test: process groups, logs, stop on drop |
//! | [`nextjs`] | the Next.js fixture app: `npm ci`, build per variant, `next start` |
//! | [`express`] | the Express fixture app: `npm ci`, `node src/server.js` |
//! | [`python_app`] | the Python fixture app: its virtual environment, `uvicorn` |
//! | [`runner`] | runs the features against a target: flags/env, reports, expected failures |
//! | [`report`] | the HTML run report: summary, filters, each scenario's steps, sequence diagram, tokens |
//! | [`world`] | one scenario's state: its agent, user, session, what it saw |
//! | [`steps`] | the step library the features are written in |
//! | [`stack`] | mock-clerk + downstream double + Next.js app, started and stopped together |

pub mod agent;
pub mod app;
pub mod browser;
pub mod downstream;
pub mod express;
pub mod issuer;
pub mod nextjs;
pub mod process;
pub mod profile;
pub mod python_app;
pub mod report;
pub mod runner;
pub mod stack;
pub mod steps;
pub mod transcript;
pub mod world;
