//! The request fields a policy can find missing, named by their path in the
//! wire request (`EvaluateClaimRequest`) so that an agent knows what to ask
//! for. The paths live here only; a test at the edge checks that each one
//! resolves in the proto descriptor.

/// Declares `Field`, `Field::ALL` and `Field::path` from one list.
macro_rules! fields {
    ($($(#[$doc:meta])* $variant:ident => $path:literal),+ $(,)?) => {
        /// A request field a policy requires and found empty.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $($(#[$doc])* $variant),+
        }

        impl Field {
            /// Every field, in declaration order.
            pub const ALL: &'static [Field] = &[$(Field::$variant),+];

            /// The dotted path from `EvaluateClaimRequest`, as reported in
            /// `missing_information`.
            pub const fn path(self) -> &'static str {
                match self {
                    $(Field::$variant => $path),+
                }
            }
        }
    };
}

fields! {
    PurchaseOrderId => "purchase.order_id",
    PurchaseTermMonths => "purchase.term_months",
    PurchasePaymentMethod => "purchase.payment_method",
    PurchaseInvoiceNumber => "purchase.invoice_number",
    PurchaseEmail => "purchase.purchase_email",
    PurchaseResellerId => "purchase.reseller_id",
    PurchaseTransactionId => "purchase.transaction_id",
    ClaimDescription => "claim.description",
    ClaimIssueStartedAt => "claim.issue_started_at",
    ClaimEvidenceAttachments => "claim.evidence_attachments",
    ClaimOutageDuration => "claim.outage.duration",
    ClaimSupportFirstContactedAt => "claim.support.first_contacted_at",
    ClaimChargedAmount => "claim.charged_amount",
    ClaimExpectedAmount => "claim.expected_amount",
    ClaimDuplicateAmount => "claim.duplicate_amount",
    ClaimDeviceMeetsMinimumRequirements => "claim.device_meets_minimum_requirements",
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.path())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::Field;

    #[test]
    fn paths_are_unique() {
        let paths: BTreeSet<_> = Field::ALL.iter().map(|f| f.path()).collect();
        assert_eq!(paths.len(), Field::ALL.len());
    }
}
