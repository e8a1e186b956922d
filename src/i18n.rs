//! Localized text built from decisions: the explanation paragraph and the
//! descriptions of alternatives, in English and French.

use std::fmt::Write;

use crate::domain::claim::Language;
use crate::domain::decision::{Compensation, CompensationKind, Decision, Outcome, RefundMethod};

fn decision_phrase(d: Decision, lang: Language) -> &'static str {
    match (d, lang) {
        (Decision::Approved, Language::En) => "Approved",
        (Decision::Approved, Language::Fr) => "Accordé",
        (Decision::PartiallyApproved, Language::En) => "Partially approved",
        (Decision::PartiallyApproved, Language::Fr) => "Accordé en partie",
        (Decision::Denied, Language::En) => "Denied",
        (Decision::Denied, Language::Fr) => "Refusé",
        (Decision::NeedsReview, Language::En) => "Needs review by an agent",
        (Decision::NeedsReview, Language::Fr) => "À examiner par un agent",
        (Decision::NeedsInformation, Language::En) => "Needs more information",
        (Decision::NeedsInformation, Language::Fr) => "Informations complémentaires requises",
        (Decision::OfferCompensation, Language::En) => "Offer compensation first",
        (Decision::OfferCompensation, Language::Fr) => "Proposer d'abord une compensation",
    }
}

fn method_phrase(m: RefundMethod, lang: Language) -> &'static str {
    match (m, lang) {
        (RefundMethod::OriginalPayment, Language::En) => " to the original payment method",
        (RefundMethod::OriginalPayment, Language::Fr) => " sur le moyen de paiement d'origine",
        (RefundMethod::PanelCredit, Language::En) => " as panel credit",
        (RefundMethod::PanelCredit, Language::Fr) => " en crédit sur le panel",
        (RefundMethod::None, _) => "",
    }
}

/// "Approved: refund of 29.99 EUR to the original payment method. <reason messages>"
pub fn explanation(out: &Outcome, lang: Language) -> String {
    let mut text = String::with_capacity(256);
    text.push_str(decision_phrase(out.decision, lang));
    let amount = out.refund_amount;
    let _ = match (lang, amount.is_zero(), out.decision) {
        (Language::En, true, _) => write!(text, ": no refund."),
        (Language::Fr, true, _) => write!(text, " : aucun remboursement."),
        (Language::En, false, Decision::NeedsReview) => {
            write!(text, ": recommended refund {} {}.", amount, amount.currency())
        }
        (Language::Fr, false, Decision::NeedsReview) => {
            write!(text, " : remboursement recommandé de {} {}.", amount, amount.currency())
        }
        (Language::En, false, Decision::NeedsInformation | Decision::OfferCompensation) => {
            write!(
                text,
                ": {} {} would be refunded{}.",
                amount,
                amount.currency(),
                method_phrase(out.refund_method, lang)
            )
        }
        (Language::Fr, false, Decision::NeedsInformation | Decision::OfferCompensation) => {
            write!(
                text,
                " : {} {} seraient remboursés{}.",
                amount,
                amount.currency(),
                method_phrase(out.refund_method, lang)
            )
        }
        (Language::En, false, _) => {
            write!(
                text,
                ": refund of {} {}{}.",
                amount,
                amount.currency(),
                method_phrase(out.refund_method, lang)
            )
        }
        (Language::Fr, false, _) => {
            write!(
                text,
                " : remboursement de {} {}{}.",
                amount,
                amount.currency(),
                method_phrase(out.refund_method, lang)
            )
        }
    };
    for reason in out.reasons.iter() {
        text.push(' ');
        text.push_str(reason.message(lang));
    }
    if !out.missing_information.is_empty() {
        text.push_str(match lang {
            Language::En => " Missing: ",
            Language::Fr => " Manquant : ",
        });
        for (i, path) in out.missing_information.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(path);
        }
        text.push('.');
    }
    text
}

/// A short description of an alternative for the agent to offer.
pub fn compensation(c: &Compensation, lang: Language) -> String {
    let amount = c.amount.map(|a| format!("{} {}", a, a.currency())).unwrap_or_default();
    match (c.kind, lang) {
        (CompensationKind::SubscriptionExtension, Language::En) => {
            let bonus = if c.bonus_negotiable {
                ", plus a bonus period to negotiate"
            } else {
                ""
            };
            format!("Extend the subscription by {} day(s){bonus}", c.extension_days)
        }
        (CompensationKind::SubscriptionExtension, Language::Fr) => {
            let bonus = if c.bonus_negotiable {
                ", plus une période bonus à négocier"
            } else {
                ""
            };
            format!("Prolonger l'abonnement de {} jour(s){bonus}", c.extension_days)
        }
        (CompensationKind::PanelCredit, Language::En) => {
            format!("Credit {amount} to the reseller panel")
        }
        (CompensationKind::PanelCredit, Language::Fr) => {
            format!("Créditer {amount} sur le panel revendeur")
        }
        (CompensationKind::CashRefund, Language::En) => {
            format!("Refund {amount} to the original payment method")
        }
        (CompensationKind::CashRefund, Language::Fr) => {
            format!("Rembourser {amount} sur le moyen de paiement d'origine")
        }
        (CompensationKind::ResendAccess, Language::En) => "Send the access details again".to_owned(),
        (CompensationKind::ResendAccess, Language::Fr) => "Renvoyer les identifiants d'accès".to_owned(),
        (CompensationKind::DeliverCredits, Language::En) => "Deliver the purchased credits".to_owned(),
        (CompensationKind::DeliverCredits, Language::Fr) => "Livrer les crédits achetés".to_owned(),
        (CompensationKind::RenewalDiscount, Language::En) => "Offer a discount on the next renewal".to_owned(),
        (CompensationKind::RenewalDiscount, Language::Fr) => {
            "Proposer une remise sur le prochain renouvellement".to_owned()
        }
        (CompensationKind::ServerSwitch, Language::En) => "Move the customer to another server".to_owned(),
        (CompensationKind::ServerSwitch, Language::Fr) => "Basculer le client sur un autre serveur".to_owned(),
    }
}
