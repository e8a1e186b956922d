//! Localized text built from decisions: the explanation paragraph and the
//! descriptions of alternatives, in English and French.
//!
//! French follows the usual typography of a support tool: a space before
//! ":" and ";" (a plain space, everywhere, so that every message of the
//! service looks the same), the decimal comma in amounts ("29,99 EUR") and
//! the status of the claim ("la demande") as the first word: "Acceptée",
//! "Refusée".

use std::fmt::Write;

use crate::domain::claim::Language;
use crate::domain::decision::{Compensation, CompensationKind, Decision, Outcome, RefundMethod};
use crate::domain::money::Money;

fn decision_phrase(d: Decision, lang: Language) -> &'static str {
    match (d, lang) {
        (Decision::Approved, Language::En) => "Approved",
        (Decision::Approved, Language::Fr) => "Acceptée",
        (Decision::PartiallyApproved, Language::En) => "Partially approved",
        (Decision::PartiallyApproved, Language::Fr) => "Acceptée en partie",
        (Decision::Denied, Language::En) => "Denied",
        (Decision::Denied, Language::Fr) => "Refusée",
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

/// An amount and its currency as a reader sees it: "29.99 EUR" in English,
/// "29,99 EUR" in French (decimal comma). The digits are those of the wire,
/// rounded to the currency's minor unit.
pub fn amount(m: Money, lang: Language) -> String {
    Amount(m, lang).to_string()
}

/// [`amount`] as a `Display`, written where it is used (no string of its own).
#[derive(Clone, Copy, Debug)]
pub struct Amount(pub Money, pub Language);

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Language::En => write!(f, "{}", self.0)?,
            Language::Fr => write!(DecimalComma(f), "{}", self.0)?,
        }
        write!(f, " {}", self.0.currency())
    }
}

/// Writes through to `f` with the decimal point as a comma.
struct DecimalComma<'a, 'b>(&'a mut std::fmt::Formatter<'b>);

impl Write for DecimalComma<'_, '_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let mut parts = s.split('.');
        if let Some(first) = parts.next() {
            self.0.write_str(first)?;
        }
        for part in parts {
            self.0.write_char(',')?;
            self.0.write_str(part)?;
        }
        Ok(())
    }
}

/// "Approved: refund of 29.99 EUR to the original payment method. <reason messages>"
/// / "Acceptée : remboursement de 29,99 EUR sur le moyen de paiement d'origine. <...>"
pub fn explanation(out: &Outcome, lang: Language) -> String {
    // Sized once for the whole paragraph: the phrases before the reasons
    // take under 160 bytes.
    let reasons: usize = out.reasons.iter().map(|r| r.message(lang).len() + 1).sum();
    let missing: usize = out.missing_information.iter().map(|f| f.path().len() + 2).sum();
    let mut text = String::with_capacity(160 + reasons + missing + if missing > 0 { 32 } else { 0 });
    // Writing to a String cannot fail.
    let _ = write_explanation(&mut text, out, lang);
    text
}

/// [`explanation`], written to `text` (the unary answer writes it straight
/// into its wire buffer).
pub fn write_explanation(text: &mut impl Write, out: &Outcome, lang: Language) -> std::fmt::Result {
    text.write_str(decision_phrase(out.decision, lang))?;
    let sum = Amount(out.refund_amount, lang);
    let method = method_phrase(out.refund_method, lang);
    match (lang, out.refund_amount.is_zero(), out.decision) {
        (Language::En, true, Decision::NeedsReview) => write!(text, ": no amount recommended."),
        (Language::Fr, true, Decision::NeedsReview) => write!(text, " : aucun montant recommandé."),
        (Language::En, true, Decision::NeedsInformation) => write!(text, ": amount to be determined."),
        (Language::Fr, true, Decision::NeedsInformation) => write!(text, " : montant à déterminer."),
        (Language::En, true, _) => write!(text, ": no refund."),
        (Language::Fr, true, _) => write!(text, " : aucun remboursement."),
        (Language::En, false, Decision::NeedsReview) => write!(text, ": recommended refund {sum}."),
        (Language::Fr, false, Decision::NeedsReview) => write!(text, " : remboursement recommandé de {sum}."),
        (Language::En, false, Decision::NeedsInformation | Decision::OfferCompensation) => {
            write!(text, ": {sum} would be refunded{method}.")
        }
        (Language::Fr, false, Decision::NeedsInformation) => {
            write!(text, " : remboursement envisagé de {sum}{method}.")
        }
        (Language::Fr, false, Decision::OfferCompensation) => {
            write!(text, " : à défaut, remboursement de {sum}{method}.")
        }
        (Language::En, false, _) => write!(text, ": refund of {sum}{method}."),
        (Language::Fr, false, _) => write!(text, " : remboursement de {sum}{method}."),
    }?;
    for reason in out.reasons.iter() {
        text.write_char(' ')?;
        text.write_str(reason.message(lang))?;
    }
    if !out.missing_information.is_empty() {
        text.write_str(match lang {
            Language::En => " Missing: ",
            Language::Fr => " Informations manquantes : ",
        })?;
        for (i, field) in out.missing_information.iter().enumerate() {
            if i > 0 {
                text.write_str(", ")?;
            }
            text.write_str(field.path())?;
        }
        text.write_char('.')?;
    }
    Ok(())
}

/// A short description of an alternative for the agent to offer.
pub fn compensation(c: &Compensation, lang: Language) -> String {
    let sum = c.amount.map(|a| amount(a, lang)).unwrap_or_default();
    match (c.kind, lang) {
        (CompensationKind::SubscriptionExtension, Language::En) => {
            let days = match c.extension_days {
                1 => "1 day".to_owned(),
                n => format!("{n} days"),
            };
            let bonus = if c.bonus_negotiable {
                ", plus a bonus period to negotiate"
            } else {
                ""
            };
            format!("Extend the subscription by {days}{bonus}")
        }
        (CompensationKind::SubscriptionExtension, Language::Fr) => {
            let days = match c.extension_days {
                1 => "d'un jour".to_owned(),
                n => format!("de {n} jours"),
            };
            let bonus = if c.bonus_negotiable {
                ", avec un bonus à négocier"
            } else {
                ""
            };
            format!("Prolonger l'abonnement {days}{bonus}")
        }
        (CompensationKind::CashRefund, Language::En) => format!("Refund {sum} to the original payment method"),
        (CompensationKind::CashRefund, Language::Fr) => {
            format!("Rembourser {sum} sur le moyen de paiement d'origine")
        }
        (CompensationKind::ResendAccess, Language::En) => "Send the access details again".to_owned(),
        (CompensationKind::ResendAccess, Language::Fr) => "Renvoyer les identifiants d'accès".to_owned(),
        (CompensationKind::DeliverCredits, Language::En) => "Deliver the purchased credits".to_owned(),
        (CompensationKind::DeliverCredits, Language::Fr) => "Ajouter au panel les crédits achetés".to_owned(),
        (CompensationKind::RenewalDiscount, Language::En) => "Offer a discount on the next renewal".to_owned(),
        (CompensationKind::RenewalDiscount, Language::Fr) => {
            "Proposer une remise sur le prochain renouvellement".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::decision::{Outcome, ReasonDef};
    use crate::domain::field::Field;
    use crate::domain::money::Currency;

    static REASON: ReasonDef = ReasonDef {
        code: "X",
        clause: "§1",
        en: "Because.",
        fr: "Parce que.",
    };

    fn money(code: &str, amount: &str) -> Money {
        Money::parse(Currency::from_code(code).unwrap(), amount).unwrap()
    }

    fn outcome(decision: Decision, paid: Money, method: RefundMethod) -> Outcome {
        Outcome::new(decision, &REASON, paid).paying(paid, method)
    }

    #[test]
    fn french_amounts_take_the_decimal_comma() {
        assert_eq!(amount(money("EUR", "29.99"), Language::Fr), "29,99 EUR");
        assert_eq!(amount(money("EUR", "29.99"), Language::En), "29.99 EUR");
        assert_eq!(amount(money("KWD", "5.625"), Language::Fr), "5,625 KWD");
        assert_eq!(amount(money("JPY", "6856"), Language::Fr), "6856 JPY");
        assert_eq!(amount(money("EUR", "0"), Language::Fr), "0,00 EUR");
    }

    #[test]
    fn french_explanations_read_as_french() {
        let paid = money("EUR", "29.99");
        let out = outcome(Decision::Approved, paid, RefundMethod::OriginalPayment);
        assert_eq!(
            explanation(&out, Language::Fr),
            "Acceptée : remboursement de 29,99 EUR sur le moyen de paiement d'origine. Parce que."
        );
        assert_eq!(
            explanation(&out, Language::En),
            "Approved: refund of 29.99 EUR to the original payment method. Because."
        );
        let offer = outcome(
            Decision::OfferCompensation,
            money("EUR", "45.70"),
            RefundMethod::OriginalPayment,
        );
        assert_eq!(
            explanation(&offer, Language::Fr),
            "Proposer d'abord une compensation : à défaut, remboursement de 45,70 EUR sur le moyen de \
             paiement d'origine. Parce que."
        );
        let mut info = outcome(
            Decision::NeedsInformation,
            money("EUR", "1.50"),
            RefundMethod::OriginalPayment,
        );
        info.missing_information.push(Field::PurchaseOrderId);
        info.missing_information.push(Field::ClaimDescription);
        assert_eq!(
            explanation(&info, Language::Fr),
            "Informations complémentaires requises : remboursement envisagé de 1,50 EUR sur le moyen de paiement \
             d'origine. Parce que. Informations manquantes : purchase.order_id, claim.description."
        );
        let review = Outcome::new(Decision::NeedsReview, &REASON, paid);
        assert_eq!(
            explanation(&review, Language::Fr),
            "À examiner par un agent : aucun montant recommandé. Parce que."
        );
        let denied = Outcome::denied(&REASON, paid);
        assert_eq!(
            explanation(&denied, Language::Fr),
            "Refusée : aucun remboursement. Parce que."
        );
    }

    #[test]
    fn alternatives_agree_in_number() {
        let one = Compensation {
            extension_days: 1,
            ..Compensation::of(CompensationKind::SubscriptionExtension)
        };
        let three = Compensation {
            extension_days: 3,
            bonus_negotiable: true,
            ..Compensation::of(CompensationKind::SubscriptionExtension)
        };
        assert_eq!(compensation(&one, Language::Fr), "Prolonger l'abonnement d'un jour");
        assert_eq!(compensation(&one, Language::En), "Extend the subscription by 1 day");
        assert_eq!(
            compensation(&three, Language::Fr),
            "Prolonger l'abonnement de 3 jours, avec un bonus à négocier"
        );
        let cash = Compensation {
            amount: Some(money("EUR", "150.00")),
            ..Compensation::of(CompensationKind::CashRefund)
        };
        assert_eq!(
            compensation(&cash, Language::Fr),
            "Rembourser 150,00 EUR sur le moyen de paiement d'origine"
        );
    }
}
