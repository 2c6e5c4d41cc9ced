//! iisim: an emulator of IIS 5.0/5.1/6.0 hosting ASP.NET 1.0, 1.1, 2.0 and 4.0 side by side.
#![warn(missing_docs)]

pub mod cmd;
pub mod config;
pub mod console;
pub mod diagram;
pub mod dispatch;
pub mod edition;
pub mod http;
pub mod junit;
pub mod lint;
pub mod machine;
pub mod messages;
pub mod metabase;
pub mod policy;
pub mod process;
pub mod registration;
pub mod rules;
pub mod runtime;
pub mod scenario;
pub mod setup;
pub mod sites;
pub mod tools;

/// The README's library example, compiled and run by `cargo test` so that it cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
