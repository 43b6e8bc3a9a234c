//! Verify before load, under its first name: [`crate::flows::verify_model()`] and what it
//! returns. New code uses `modelseal::flows`.

pub use crate::core::manifest::{check_signed_model, is_manifest_copy, manifest_copies};
pub use crate::flows::FlowError as ModelCheckError;
pub use crate::flows::verify_model::{ModelCheck, ModelVerdict, verify_model, verify_model_async};
