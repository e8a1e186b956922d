//! The rule trace: which rules an evaluation considered, in order, whether
//! each matched, which one decided, and the facts it compared.
//!
//! The engine and the policies take a tracer generically (`impl Trace`).
//! [`NoTrace`] does nothing and is inlined away, detail closures included, so
//! an evaluation without `explain` builds no string and touches no heap;
//! [`Recorder`] keeps the entries, writing every detail into one shared
//! buffer in the request's language.

use std::fmt::{self, Write as _};
use std::ops::Range;

use chrono::{DateTime, Datelike, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::claim::Language;
use super::decision::{Outcome, Reason};

/// Where a rule's detail is written, in the request's language.
pub struct Detail<'a> {
    lang: Language,
    out: &'a mut String,
}

impl Detail<'_> {
    pub fn lang(&self) -> Language {
        self.lang
    }

    /// Writes the English or the French text, whichever the request asked for.
    pub fn say(&mut self, en: fmt::Arguments<'_>, fr: fmt::Arguments<'_>) {
        // Writing to a String cannot fail.
        let _ = self.out.write_fmt(match self.lang {
            Language::En => en,
            Language::Fr => fr,
        });
    }
}

/// What an evaluation tells about the rules it considers.
pub trait Trace {
    /// The rules recorded from now on belong to `scope` (`floor` or a policy id).
    fn scope(&mut self, scope: &'static str);

    /// One rule considered: `reason` is what it returns when it decides.
    /// `detail` runs only when entries are recorded.
    fn record(
        &mut self,
        rule: &'static str,
        clause: &'static str,
        reason: Option<Reason>,
        matched: bool,
        detail: impl FnOnce(&mut Detail<'_>),
    );

    /// Marks the rule that produced `primary` (the answer's first reason) as
    /// decisive: the last matched entry returning it.
    fn settle(&mut self, primary: Reason);

    /// [`Trace::record`] for a rule returning `reason`; gives back `matched`
    /// so that a rule reads `if t.rule(..., cond, ...) { return ... }`.
    #[inline(always)]
    fn rule(
        &mut self,
        rule: &'static str,
        reason: Reason,
        matched: bool,
        detail: impl FnOnce(&mut Detail<'_>),
    ) -> bool {
        self.record(rule, reason.clause, Some(reason), matched, detail);
        matched
    }
}

/// Records the rule that produced `out`: matched, returning its primary reason.
#[inline(always)]
pub fn produced(t: &mut impl Trace, rule: &'static str, out: &Outcome, detail: impl FnOnce(&mut Detail<'_>)) {
    if let Some(r) = out.reasons.first() {
        t.record(rule, r.clause, Some(r), true, detail);
    }
}

/// No trace: every call is empty and inlined away.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTrace;

impl Trace for NoTrace {
    #[inline(always)]
    fn scope(&mut self, _scope: &'static str) {}

    #[inline(always)]
    fn record(
        &mut self,
        _rule: &'static str,
        _clause: &'static str,
        _reason: Option<Reason>,
        _matched: bool,
        _detail: impl FnOnce(&mut Detail<'_>),
    ) {
    }

    #[inline(always)]
    fn settle(&mut self, _primary: Reason) {}
}

/// One recorded rule.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    scope: &'static str,
    rule: &'static str,
    clause: &'static str,
    reason: Option<Reason>,
    matched: bool,
    decisive: bool,
    detail: Range<usize>,
}

/// One rule of a recorded trace, as the edge reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleTrace<'a> {
    /// `floor` or the policy id.
    pub scope: &'static str,
    /// The rule's name within its scope; the stable id is `scope.rule`.
    pub rule: &'static str,
    pub clause: &'static str,
    /// What the rule returns when it decides (none: a rule that only informs).
    pub reason: Option<Reason>,
    pub matched: bool,
    pub decisive: bool,
    pub detail: &'a str,
}

impl RuleTrace<'_> {
    /// The stable id, e.g. `floor.period` or `iptv-smarters-pro.within-48h`.
    pub fn id(&self) -> String {
        format!("{}.{}", self.scope, self.rule)
    }
}

/// Records every rule, with details in one language.
#[derive(Clone, Debug)]
pub struct Recorder {
    lang: Language,
    scope: &'static str,
    entries: Vec<Entry>,
    text: String,
}

impl Recorder {
    pub fn new(lang: Language) -> Recorder {
        Recorder {
            lang,
            scope: "",
            entries: Vec::with_capacity(16),
            text: String::with_capacity(1024),
        }
    }

    /// The rules in evaluation order.
    pub fn entries(&self) -> impl Iterator<Item = RuleTrace<'_>> {
        self.entries.iter().map(|e| RuleTrace {
            scope: e.scope,
            rule: e.rule,
            clause: e.clause,
            reason: e.reason,
            matched: e.matched,
            decisive: e.decisive,
            detail: self.text.get(e.detail.clone()).unwrap_or(""),
        })
    }
}

impl Trace for Recorder {
    fn scope(&mut self, scope: &'static str) {
        self.scope = scope;
    }

    fn record(
        &mut self,
        rule: &'static str,
        clause: &'static str,
        reason: Option<Reason>,
        matched: bool,
        detail: impl FnOnce(&mut Detail<'_>),
    ) {
        let start = self.text.len();
        detail(&mut Detail {
            lang: self.lang,
            out: &mut self.text,
        });
        self.entries.push(Entry {
            scope: self.scope,
            rule,
            clause,
            reason,
            matched,
            decisive: false,
            detail: start..self.text.len(),
        });
    }

    fn settle(&mut self, primary: Reason) {
        if let Some(e) = self
            .entries
            .iter_mut()
            .rev()
            .find(|e| e.matched && e.reason.is_some_and(|r| r.code == primary.code))
        {
            e.decisive = true;
        }
    }
}

/// A duration as "50 h 12 min" (whole minutes, rounded down; days as hours).
#[derive(Clone, Copy, Debug)]
pub struct Hm(pub TimeDelta);

impl fmt::Display for Hm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.num_seconds();
        let sign = if s < 0 { "-" } else { "" };
        let m = s.unsigned_abs() / 60;
        match (m / 60, m % 60) {
            (0, m) => write!(f, "{sign}{m} min"),
            (h, 0) => write!(f, "{sign}{h} h"),
            (h, m) => write!(f, "{sign}{h} h {m} min"),
        }
    }
}

/// An optional value, "-" when absent.
#[derive(Clone, Copy, Debug)]
pub struct Opt<T>(pub Option<T>);

impl<T: fmt::Display> fmt::Display for Opt<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// An instant as "2026-03-16 23:59:59 UTC".
#[derive(Clone, Copy, Debug)]
pub struct At(pub DateTime<Utc>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_local(f, &self.0.naive_utc())?;
        f.write_str(" UTC")
    }
}

/// "2026-03-16 23:59:59", digit by digit into one buffer (the trace writes
/// many instants: `core::fmt` padding each field costs several times more).
fn write_local(f: &mut fmt::Formatter<'_>, t: &NaiveDateTime) -> fmt::Result {
    let year = t.year();
    let Ok(y) = u32::try_from(year) else {
        return write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S"));
    };
    if y > 9999 {
        return write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S"));
    }
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let two = |n: u32| [digit(n / 10), digit(n)];
    let [mo1, mo0] = two(t.month());
    let [d1, d0] = two(t.day());
    let [h1, h0] = two(t.hour());
    let [mi1, mi0] = two(t.minute());
    let [s1, s0] = two(t.second());
    let bytes = [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        mo1,
        mo0,
        b'-',
        d1,
        d0,
        b' ',
        h1,
        h0,
        b':',
        mi1,
        mi0,
        b':',
        s1,
        s0,
    ];
    match std::str::from_utf8(&bytes) {
        Ok(text) => f.write_str(text),
        Err(_) => Err(fmt::Error),
    }
}

/// An instant in a zone, as "2026-03-16 23:59:59 Europe/Paris".
#[derive(Clone, Copy, Debug)]
pub struct AtIn(pub DateTime<Utc>, pub Tz);

impl fmt::Display for AtIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.1.from_utc_datetime(&self.0.naive_utc());
        write_local(f, &local.naive_local())?;
        write!(f, " {}", self.1.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_read_in_utc_or_their_zone() {
        let t = DateTime::parse_from_rfc3339("2026-03-16T22:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(At(t).to_string(), "2026-03-16 22:59:59 UTC");
        assert_eq!(
            AtIn(t, chrono_tz::Europe::Paris).to_string(),
            "2026-03-16 23:59:59 Europe/Paris"
        );
    }

    #[test]
    fn durations_read_in_hours_and_minutes() {
        assert_eq!(Hm(TimeDelta::minutes(50 * 60 + 12)).to_string(), "50 h 12 min");
        assert_eq!(Hm(TimeDelta::hours(48)).to_string(), "48 h");
        assert_eq!(Hm(TimeDelta::seconds(59)).to_string(), "0 min");
    }

    #[test]
    fn the_recorder_marks_the_last_matched_rule_of_the_primary_reason() {
        static SILENT: crate::domain::decision::ReasonDef = crate::domain::decision::ReasonDef {
            code: "SILENT",
            clause: "",
            en: "",
            fr: "",
        };
        let mut t = Recorder::new(Language::Fr);
        t.scope("p");
        assert!(!t.rule("a", &SILENT, false, |d| d.say(format_args!("no"), format_args!("non"))));
        assert!(t.rule("b", &SILENT, true, |d| d.say(format_args!("yes"), format_args!("oui"))));
        t.settle(&SILENT);
        let e: Vec<_> = t.entries().collect();
        assert_eq!((e[0].decisive, e[1].decisive), (false, true));
        assert_eq!((e[0].detail, e[1].detail, e[1].id()), ("non", "oui", "p.b".to_owned()));
    }
}
