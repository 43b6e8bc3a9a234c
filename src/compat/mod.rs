//! Reading (and writing) what other integrity systems leave beside models, so that their users
//! can verify what they have with modelseal and move to signed, logged statements in one step.
#![deny(missing_docs)]

pub mod hmac;
