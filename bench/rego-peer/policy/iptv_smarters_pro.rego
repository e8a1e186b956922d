# iptv-smarters-pro, written once more in Rego: the ruling of
# POLICY_RULINGS.md ("iptv-smarters-pro" and "Common to every policy"),
# the statutory floor and the terms-violation exclusion included, so that
# `result` can be compared with the service's `engine::evaluate` claim by
# claim (decision, amount, reason codes, missing information).
#
# Input (built by src/lib.rs from the same validated claim the service
# evaluates):
# - every instant is whole seconds since the Unix epoch;
# - every amount is an integer in the currency's minor unit (2999 = 29.99 EUR),
#   so the whole policy runs on exact integer arithmetic: no float touches an
#   amount, and proration rounds half-to-even with an integer remainder;
# - `purchase.term_start` / `purchase.term_end` are the service term (from
#   delivery, else purchase, for `term_months` calendar months clamped to the
#   month's end). Calendar-month addition is domain arithmetic shared by every
#   policy, not a rule of this one; Rego's `time.add_date` normalizes 31 Jan +
#   1 month to 3 Mar instead of clamping to 28 Feb, so the caller passes the
#   term, absent when `term_months` is 0.
# Optional values (delivered_at, term, customer_country, outage,
# first_contacted_at) are absent, never null.
package refund.iptv_smarters_pro

import rego.v1

hours(n) := n * 3600

days(n) := n * 86400

# "Refunds must be requested within 48 hours of the original purchase."
full_refund_window := hours(48)

# "If we cannot resolve your issue within 48 hours, we will issue a full refund."
resolution_window := hours(48)

# "unable to access your IPTV service for more than 48 hours due to a server-side problem"
outage_guarantee_threshold := hours(48)

# Directive 2011/83/EU art. 9: 14 days.
withdrawal_period := days(14)

# EU member states, the other EEA states (IS, LI, NO) and the United Kingdom.
withdrawal_right_countries := {
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
	"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO", "GB",
}

paid := input.purchase.amount_minor

# ---------------------------------------------------------------- outcomes

outcome(decision, amount, reasons, missing) := {
	"decision": decision,
	"amount": amount,
	"reasons": reasons,
	"missing": missing,
}

deny(code) := outcome("DENIED", 0, [code], [])

full(code) := outcome("APPROVED", paid, [code], [])

# Required information is asked only of a claim that would not be denied:
# NEEDS_INFORMATION, MISSING_REQUIRED_INFORMATION first (once), the amount
# kept, every missing field listed.
needs_information(o, field) := outcome("NEEDS_INFORMATION", o.amount, o.reasons, array.concat(o.missing, [field])) if {
	o.decision == "NEEDS_INFORMATION"
} else := outcome(
	"NEEDS_INFORMATION",
	o.amount,
	array.concat(["MISSING_REQUIRED_INFORMATION"], o.reasons),
	array.concat(o.missing, [field]),
)

# ---------------------------------------------------------------- the policy

# "We Do Not Offer Refunds In the Following Cases"
excluded := "CHANGE_OF_MIND_EXCLUDED" if {
	input.claim.reason in {"CHANGE_OF_MIND", "SERVER_SWITCH_REQUEST"}
} else := "SETUP_NOT_COVERED" if {
	input.claim.reason == "SETUP_DIFFICULTY"
} else := "OCCASIONAL_DISRUPTION_EXCLUDED" if {
	input.claim.reason == "CHANNEL_UNAVAILABLE"
} else := "ADULT_CONTENT_NOT_ADVERTISED" if {
	input.claim.reason == "CONTENT_DISSATISFACTION"
	input.claim.concerns_adult_content
} else := "OCCASIONAL_DISRUPTION_EXCLUDED" if {
	input.claim.outage.scope in {"SINGLE_CHANNEL", "PARTIAL"}
} else := "CUSTOMER_SIDE_ISSUE_EXCLUDED" if {
	input.claim.cause in {"CUSTOMER_SIDE", "ISP", "CHANNEL_SOURCE"}
}

decided := deny(excluded) if {
	excluded
} else := outage_rule if {
	input.claim.reason == "SERVICE_OUTAGE"
} else := technical_issue_rule if {
	input.claim.reason == "TECHNICAL_ISSUE"
} else := no_fault_rule

# "What We Do Guarantee": more than 48 h without access for a server-side
# problem (an undiagnosed outage is taken as server side); any other cause
# is not addressed.
outage_rule := outcome("NEEDS_REVIEW", 0, ["POLICY_SILENT_MANUAL_REVIEW"], []) if {
	not input.claim.cause in {"SERVER_SIDE", "UNDIAGNOSED"}
} else := needs_information(full("OUTAGE_GUARANTEE"), "claim.outage.duration") if {
	not input.claim.outage
} else := deny("OCCASIONAL_DISRUPTION_EXCLUDED") if {
	input.claim.outage.duration <= outage_guarantee_threshold
} else := full("OUTAGE_GUARANTEE")

# "We do not offer refunds for technical issues unless you have allowed us
# the chance to resolve them. If we cannot resolve your issue within 48
# hours, we will issue a full refund."
technical_issue_rule := deny("SUPPORT_NOT_GIVEN_CHANCE") if {
	not input.claim.support.contacted
} else := deny("ISSUE_RESOLVED") if {
	input.claim.support.resolved
} else := needs_information(full("UNRESOLVED_WITHIN_48H"), "claim.support.first_contacted_at") if {
	not input.claim.support.first_contacted_at
} else := deny("WAITING_PERIOD_RUNNING") if {
	input.evaluated_at < input.claim.support.first_contacted_at + resolution_window
} else := full("UNRESOLVED_WITHIN_48H")

# "We only offer full refunds for purchases made within 48 hours. For any
# request made after that period, refunds will be partial depending on how
# much of the subscription was used."
no_fault_rule := full("WITHIN_48_HOURS") if {
	input.claim.submitted_at <= input.purchase.purchased_at + full_refund_window
} else := needs_information(
	outcome("PARTIALLY_APPROVED", 0, ["PRORATED_BY_USAGE"], []),
	"purchase.term_months",
) if {
	not input.purchase.term_end
} else := deny("SUBSCRIPTION_USED_UP") if {
	prorated == 0
} else := outcome("APPROVED", paid, ["PRORATED_BY_USAGE"], []) if {
	prorated == paid
} else := outcome("PARTIALLY_APPROVED", prorated, ["PRORATED_BY_USAGE"], [])

# ---------------------------------------------------------------- proration

# refund = paid x unused / term, in whole seconds, unused measured from
# evaluated_at and clamped to [0, term]; before delivery nothing is used.
term_seconds := input.purchase.term_end - input.purchase.term_start

unused_seconds := clamp(input.purchase.term_end - max([input.evaluated_at, input.purchase.term_start]), 0, term_seconds) if {
	input.purchase.delivered_at <= input.evaluated_at
} else := term_seconds

prorated := round_half_even(paid * unused_seconds, term_seconds)

clamp(x, lo, hi) := min([max([x, lo]), hi])

# n / d to the nearest integer, ties to even (n >= 0, d > 0), exactly.
round_half_even(n, d) := q + half_even_bump(q, 2 * r, d) if {
	r := n % d
	q := (n - r) / d
}

half_even_bump(_, twice_r, d) := 1 if twice_r > d

half_even_bump(q, twice_r, d) := q % 2 if twice_r == d

half_even_bump(_, twice_r, d) := 0 if twice_r < d

# ---------------------------------------------------------------- the engine

# "Please email us ... and include your order number."
policy_outcome := needs_information(decided, "purchase.order_id") if {
	input.purchase.order_id == ""
	decided.decision != "DENIED"
} else := decided

# A terms violation is denied before any rule of the policy.
merchant_outcome := deny("TERMS_VIOLATION") if {
	input.claim.terms_violation
} else := policy_outcome

# The statutory floor comes first: a consumer in the EU/EEA or UK who did not
# waive the right and claims within 14 days of purchase gets a full refund,
# whatever the merchant policy says; no precondition (required information)
# may be asked.
statutory_withdrawal if {
	input.purchase.customer_type == "CONSUMER"
	input.purchase.customer_country in withdrawal_right_countries
	not input.purchase.express_consent_immediate_performance
	input.claim.submitted_at <= input.purchase.purchased_at + withdrawal_period
}

result := outcome(
	"APPROVED",
	paid,
	array.concat(
		["STATUTORY_WITHDRAWAL_RIGHT"],
		[code | some code in merchant_outcome.reasons; code != "MISSING_REQUIRED_INFORMATION"],
	),
	[],
) if {
	statutory_withdrawal
} else := merchant_outcome
