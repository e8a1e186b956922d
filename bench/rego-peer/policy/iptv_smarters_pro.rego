# iptv-smarters-pro, written once more in Rego: the second edition of
# POLICY_RULINGS.md (2026-12-02: "iptv-smarters-pro", "Common to every
# policy" with its charge disputes, and the "Statutory floor"), the
# terms-violation exclusion included, so that `result` can be compared with
# the service's `engine::evaluate` claim by claim (decision, amount, reason
# codes, missing information). The order of the rules mirrors the Rust
# reference (src/engine.rs, src/policies/iptv_smarters_pro.rs,
# src/policies/common.rs, src/policies/statutory.rs).
#
# Input (built by src/lib.rs from the same validated claim the service
# evaluates):
# - every instant is whole seconds since the Unix epoch;
# - every amount (`purchase.amount_minor`, `claim.charged_amount`,
#   `claim.expected_amount`, `claim.duplicate_amount`) is an integer in the
#   currency's minor unit (2999 = 29.99 EUR), so the whole policy runs on
#   exact integer arithmetic: no float touches an amount, and proration
#   rounds half-to-even with an integer remainder;
# - `purchase.term_start` / `purchase.term_end` are the service term (from
#   delivery, else purchase, for `term_months` calendar months clamped to the
#   month's end). Calendar-month addition is domain arithmetic shared by every
#   policy, not a rule of this one; Rego's `time.add_date` normalizes 31 Jan +
#   1 month to 3 Mar instead of clamping to 28 Feb, so the caller passes the
#   term, absent when `term_months` is 0;
# - `withdrawal_period_ends_before` is the first instant after the
#   consumer's statutory withdrawal period (`Period::ends_before` of the
#   service's `domain::withdrawal::period(country, purchased_at,
#   withdrawal_information_given)`), absent when the country has no right.
#   THE CALENDAR IS AN INPUT to this policy, like the current time
#   (`evaluated_at`): the period is counted in the consumer's local zone(s)
#   (the latest end over PT's and ES's zones), moved past weekends and the
#   national and regional public holidays of ~37 countries (GB: not moved),
#   and extended by 12 months when the information was not given. Those
#   holidays come from a generated table compiled into the service; this file
#   does not re-implement the calendar, it decides who the period covers and
#   what is owed within it.
# Optional values (delivered_at, term, customer_country, outage,
# first_contacted_at, the disputed amounts, the period's end) are absent,
# never null.
package refund.iptv_smarters_pro

import rego.v1

hours(n) := n * 3600

# "Refunds must be requested within 48 hours of the original purchase."
full_refund_window := hours(48)

# "If we cannot resolve your issue within 48 hours, we will issue a full refund."
resolution_window := hours(48)

# "unable to access your IPTV service for more than 48 hours due to a server-side problem"
outage_guarantee_threshold := hours(48)

# The 27 EU member states, the other EEA states (IS, LI, NO), the United
# Kingdom, and the EU outermost regions / parts with their own ISO code.
withdrawal_right_countries := {
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
	"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO", "GB",
	"GF", "GP", "MQ", "RE", "YT", "MF", "AX",
}

# BILLING_ERROR and DUPLICATE_PAYMENT dispute a charge and keep the contract.
charge_dispute_reasons := {"BILLING_ERROR", "DUPLICATE_PAYMENT"}

paid := input.purchase.amount_minor

# ---------------------------------------------------------------- outcomes

# `missing`: the fields a rule needs to size its refund and finds absent (the
# service's `Required`); they are asked only if the claim is not denied.
outcome(decision, amount, reasons, missing) := {
	"decision": decision,
	"amount": amount,
	"reasons": reasons,
	"missing": missing,
}

deny(code) := outcome("DENIED", 0, [code], [])

full(code) := outcome("APPROVED", paid, [code], [])

# APPROVED when the refund is the whole amount paid, PARTIALLY_APPROVED otherwise.
share_decision(amount) := "APPROVED" if {
	amount == paid
} else := "PARTIALLY_APPROVED"

absent(obj, key, path) := [path] if {
	object.get(obj, key, null) == null
} else := []

# Required information is asked only of a claim that would not be denied:
# NEEDS_INFORMATION, MISSING_REQUIRED_INFORMATION first (once), the amount
# kept, every missing field listed (the order number's first).
required_applied(o, first) := outcome(o.decision, o.amount, o.reasons, []) if {
	o.decision == "DENIED"
} else := o if {
	count(first) + count(o.missing) == 0
} else := outcome(
	"NEEDS_INFORMATION",
	o.amount,
	array.concat(["MISSING_REQUIRED_INFORMATION"], o.reasons),
	array.concat(first, o.missing),
)

# ---------------------------------------------------------------- charge disputes

# "Charge disputes" (common to every policy): BILLING_ERROR refunded by the
# overcharge, DUPLICATE_PAYMENT by the duplicate charge, never more than was
# paid, at any time: APPROVED; charged <= expected: DENIED, NO_OVERCHARGE; a
# missing amount (a zero duplicate counts as missing) is asked for.
charge_dispute := deny("NO_OVERCHARGE") if {
	input.claim.reason == "BILLING_ERROR"
	input.claim.charged_amount <= input.claim.expected_amount
} else := outcome("APPROVED", min([input.claim.charged_amount - input.claim.expected_amount, paid]), ["BILLING_ERROR_OVERCHARGE"], []) if {
	input.claim.reason == "BILLING_ERROR"
	input.claim.charged_amount > input.claim.expected_amount
} else := outcome("APPROVED", 0, ["BILLING_ERROR_OVERCHARGE"], billing_missing) if {
	input.claim.reason == "BILLING_ERROR"
} else := outcome("APPROVED", min([input.claim.duplicate_amount, paid]), ["DUPLICATE_PAYMENT"], []) if {
	input.claim.reason == "DUPLICATE_PAYMENT"
	input.claim.duplicate_amount > 0
} else := outcome("APPROVED", 0, ["DUPLICATE_PAYMENT"], ["claim.duplicate_amount"]) if {
	input.claim.reason == "DUPLICATE_PAYMENT"
}

billing_missing := array.concat(
	absent(input.claim, "charged_amount", "claim.charged_amount"),
	absent(input.claim, "expected_amount", "claim.expected_amount"),
)

# ---------------------------------------------------------------- the policy

# "We Do Not Offer Refunds In the Following Cases", in the service's order;
# adult content "whatever the reason" ("We do not offer refunds for missing
# adult channels"); THIRD_PARTY_APP is "Issues with your device, app, or setup".
excluded := "CHANGE_OF_MIND_EXCLUDED" if {
	input.claim.reason in {"CHANGE_OF_MIND", "SERVER_SWITCH_REQUEST"}
} else := "SETUP_NOT_COVERED" if {
	input.claim.reason == "SETUP_DIFFICULTY"
} else := "OCCASIONAL_DISRUPTION_EXCLUDED" if {
	input.claim.reason == "CHANNEL_UNAVAILABLE"
} else := "OCCASIONAL_DISRUPTION_EXCLUDED" if {
	input.claim.outage.scope in {"SINGLE_CHANNEL", "PARTIAL"}
} else := "ADULT_CONTENT_NOT_ADVERTISED" if {
	input.claim.concerns_adult_content
} else := "CUSTOMER_SIDE_ISSUE_EXCLUDED" if {
	input.claim.cause in {"CUSTOMER_SIDE", "ISP", "THIRD_PARTY_APP", "CHANNEL_SOURCE"}
}

# Charge disputes come before the text's exclusions (money the merchant had
# no right to: no adult-content flag, cause or outage scope blocks them);
# only the terms violation (below) comes before them.
decided := charge_dispute if {
	input.claim.reason in charge_dispute_reasons
} else := deny(excluded) if {
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
} else := outcome("APPROVED", paid, ["OUTAGE_GUARANTEE"], ["claim.outage.duration"]) if {
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
} else := outcome("APPROVED", paid, ["UNRESOLVED_WITHIN_48H"], ["claim.support.first_contacted_at"]) if {
	not input.claim.support.first_contacted_at
} else := deny("WAITING_PERIOD_RUNNING") if {
	input.evaluated_at < input.claim.support.first_contacted_at + resolution_window
} else := full("UNRESOLVED_WITHIN_48H")

# "We only offer full refunds for purchases made within 48 hours. For any
# request made after that period, refunds will be partial depending on how
# much of the subscription was used."
no_fault_rule := full("WITHIN_48_HOURS") if {
	input.claim.submitted_at <= input.purchase.purchased_at + full_refund_window
} else := outcome("PARTIALLY_APPROVED", 0, ["PRORATED_BY_USAGE"], ["purchase.term_months"]) if {
	not input.purchase.term_end
} else := deny("SUBSCRIPTION_USED_UP") if {
	prorated_now == 0
} else := outcome(share_decision(prorated_now), prorated_now, ["PRORATED_BY_USAGE"], [])

# ---------------------------------------------------------------- proration

# refund = paid x unused / term, in whole seconds, unused measured from
# `from` and clamped to [0, term]; before delivery nothing is used.
term_seconds := input.purchase.term_end - input.purchase.term_start

unused_from(from) := clamp(input.purchase.term_end - max([from, input.purchase.term_start]), 0, term_seconds) if {
	input.purchase.delivered_at <= from
} else := term_seconds

prorated(from) := round_half_even(paid * unused_from(from), term_seconds)

prorated_now := prorated(input.evaluated_at)

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
order_missing := ["purchase.order_id"] if {
	input.purchase.order_id == ""
} else := []

policy_outcome := required_applied(decided, order_missing)

# A terms violation is denied before any rule of the policy.
merchant_outcome := deny("TERMS_VIOLATION") if {
	input.claim.terms_violation
} else := policy_outcome

# ---------------------------------------------------------------- statutory floor

# Who: a consumer (UNSPECIFIED counts as one under this policy) whose country
# has the right. Which claims: every reason but a charge dispute. When: the
# claim submitted before the period's end (an input, see the header).
floor_covers if {
	input.purchase.customer_type in {"CONSUMER", "UNSPECIFIED"}
	input.purchase.customer_country in withdrawal_right_countries
	not input.claim.reason in charge_dispute_reasons
	input.claim.submitted_at < input.withdrawal_period_ends_before
	not right_lost
}

# The consumer pays for what was provided up to the withdrawal: consent to
# immediate performance on record, the withdrawal information given, access
# delivered by `submitted_at` (art. 14(3)).
pays_for_provision if {
	input.purchase.express_consent_immediate_performance
	input.purchase.withdrawal_information_given
	input.purchase.delivered_at <= input.claim.submitted_at
}

# The service fully performed by the withdrawal: the right is lost (art. 16(a)).
right_lost if {
	pays_for_provision
	input.purchase.term_end <= input.claim.submitted_at
}

# What the floor owes: the full amount, or the unused share of the term from
# `submitted_at` (no term: NEEDS_REVIEW, nothing recommended).
floor := full("STATUTORY_WITHDRAWAL_RIGHT") if {
	not pays_for_provision
} else := outcome("NEEDS_REVIEW", 0, ["STATUTORY_WITHDRAWAL_PROPORTIONAL"], []) if {
	not input.purchase.term_end
} else := outcome(
	share_decision(prorated(input.claim.submitted_at)),
	prorated(input.claim.submitted_at),
	["STATUTORY_WITHDRAWAL_PROPORTIONAL"],
	[],
)

statutory_code := floor.reasons[0]

# Against the policy: an approval paying at least as much keeps its decision,
# amount and reasons, the statutory reason after them.
policy_stands if {
	merchant_outcome.decision in {"APPROVED", "PARTIALLY_APPROVED"}
	merchant_outcome.amount >= floor.amount
}

# Either way the floor's terms apply: no precondition (nothing asked), and
# otherwise the floor's decision and amount with the policy's reasons after
# the statutory one.
result := outcome(
	merchant_outcome.decision,
	merchant_outcome.amount,
	array.concat(merchant_outcome.reasons, [statutory_code]),
	[],
) if {
	floor_covers
	policy_stands
} else := outcome(
	floor.decision,
	floor.amount,
	array.concat(
		floor.reasons,
		[code |
			some code in merchant_outcome.reasons
			code != "MISSING_REQUIRED_INFORMATION"
			code != statutory_code
		],
	),
	[],
) if {
	floor_covers
} else := merchant_outcome
