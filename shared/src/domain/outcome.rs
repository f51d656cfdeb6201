//! What handling a webhook came to: the `status` a sender is answered and the inbox keeps.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    /// Created, and a refund that had arrived first was applied at once.
    CreatedRefunded,
    /// The same transaction was recorded before: nothing new.
    Skipped,
    Refunded,
    PartiallyRefunded,
    AlreadyRefunded,
    /// The refund is kept until its transaction arrives.
    RefundPending,
    /// The payment's customer is not known yet; the payment is kept until it is linked.
    CustomerUnknown,
    /// A provider's customer was linked to a Partnerhook customer.
    CustomerLinked,
    /// A refund that failed was undone: the sale counts again.
    RefundReversed,
    /// A dispute opened: the payment's unpaid rewards are held.
    Held,
    /// A dispute closed in the seller's favour: the holds it placed are released.
    Released,
    /// Understood, but nothing Partnerhook acts on.
    Ignored,
    /// A test URL kept the payload as a sample.
    SampleCaptured,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::CreatedRefunded => "created_refunded",
            Self::Skipped | Self::AlreadyRefunded => "skipped",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
            Self::RefundPending => "refund_pending",
            Self::CustomerUnknown => "customer_unknown",
            Self::CustomerLinked => "customer_linked",
            Self::RefundReversed => "refund_reversed",
            Self::Held => "held",
            Self::Released => "released",
            Self::Ignored => "ignored",
            Self::SampleCaptured => "sample_captured",
        }
    }

    pub fn is_repeat(self) -> bool {
        matches!(self, Self::Skipped | Self::AlreadyRefunded)
    }

    /// Kept, and waiting for something else to arrive before it counts.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::RefundPending | Self::CustomerUnknown)
    }
}
