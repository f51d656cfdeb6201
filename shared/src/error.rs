//! The error of the use cases and sources: what went wrong with a request, in words of the
//! product (not of HTTP). `http::error` is the one place that turns it into an answer.

use crate::domain::error::FieldError;
use crate::queue::QueueError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body cannot be read: {0}")]
    MalformedBody(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("missing credentials: {0}")]
    MissingCredentials(String),
    #[error("the signature's timestamp is more than five minutes off; a replay is refused")]
    StaleTimestamp,
    #[error("missing signature: send X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>")]
    MissingSignature,
    #[error("the signature does not match the body and any of the program's secrets")]
    InvalidSignature,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("unknown program {0:?}")]
    UnknownProgram(String),
    #[error("no customer has the key {0:?}")]
    UnknownCustomer(String),
    #[error("{0}")]
    Conflict(String),
    /// A reward's status does not allow what was asked (approve a paid reward).
    #[error("{0}")]
    InvalidTransition(String),
    /// A payout refused for its total: `code` says why (`nothing_to_pay`, `negative_total`,
    /// `below_min_payout`).
    #[error("{message}")]
    PayoutRefused { code: &'static str, message: String },
    #[error("this route does not take that method")]
    MethodNotAllowed,
    #[error("the body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported content type {given:?}: send {expected}")]
    UnsupportedMediaType { given: String, expected: String },
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    /// Too many requests of a program were refused before their sender was verified; these
    /// are not recorded until its allowance refills.
    #[error(
        "too many unauthenticated requests for this program; retry in {retry_after_seconds} s"
    )]
    Throttled { retry_after_seconds: u64 },
    /// Something of ours is broken (not the request, not a passing outage).
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl AppError {
    /// Refused before the sender was verified (credentials, signature, or a body too large to
    /// check): anyone can send these, so they are kept small and throttled per program.
    pub fn unverified_sender(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized(_)
                | Self::MissingCredentials(_)
                | Self::StaleTimestamp
                | Self::MissingSignature
                | Self::InvalidSignature
                | Self::PayloadTooLarge { .. }
        )
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        Self::InvalidField {
            field: e.field,
            message: e.message,
        }
    }
}
