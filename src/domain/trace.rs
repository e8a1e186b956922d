//! The rule trace: which rules an evaluation considered, in order, whether
//! each matched, which one decided, and the facts it compared.
//!
//! The engine and the policies take a tracer generically (`impl Trace<'r>`,
//! `'r` the request's lifetime). [`NoTrace`] does nothing and is inlined
//! away, detail closures included, so an evaluation without `explain` builds
//! no string and touches no heap. [`Recorder`] keeps each rule's facts: its
//! detail closure, which captures the values it compared (copies, or
//! borrows of the request), is kept unrun, and the text is written only when
//! the trace is read ([`RuleTrace::detail`]), in the language asked for
//! then. Recording is a push per rule; writing the text is the encoder's
//! work, not the evaluation's.

use std::fmt::{self, Write as _};

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

/// What an evaluation tells about the rules it considers, for a request
/// that lives for `'r`: a detail may borrow from the request, not from the
/// evaluation's locals (it outlives them).
pub trait Trace<'r> {
    /// The rules recorded from now on belong to `scope` (`floor` or a policy id).
    fn scope(&mut self, scope: &'static str);

    /// One rule considered: `reason` is what it returns when it decides.
    /// `detail` writes the facts compared; it runs only when a recorded
    /// trace is read.
    fn record(
        &mut self,
        rule: &'static str,
        clause: &'static str,
        reason: Option<Reason>,
        matched: bool,
        detail: impl Fn(&mut Detail<'_>) + 'r,
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
        detail: impl Fn(&mut Detail<'_>) + 'r,
    ) -> bool {
        self.record(rule, reason.clause, Some(reason), matched, detail);
        matched
    }
}

/// Records the rule that produced `out`: matched, returning its primary reason.
#[inline(always)]
pub fn produced<'r>(t: &mut impl Trace<'r>, rule: &'static str, out: &Outcome, detail: impl Fn(&mut Detail<'_>) + 'r) {
    if let Some(r) = out.reasons.first() {
        t.record(rule, r.clause, Some(r), true, detail);
    }
}

/// No trace: every call is empty and inlined away.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTrace;

impl<'r> Trace<'r> for NoTrace {
    #[inline(always)]
    fn scope(&mut self, _scope: &'static str) {}

    #[inline(always)]
    fn record(
        &mut self,
        _rule: &'static str,
        _clause: &'static str,
        _reason: Option<Reason>,
        _matched: bool,
        _detail: impl Fn(&mut Detail<'_>) + 'r,
    ) {
    }

    #[inline(always)]
    fn settle(&mut self, _primary: Reason) {}
}

/// A rule's detail, kept unwritten until the trace is read.
type DetailFn<'r> = Box<dyn Fn(&mut Detail<'_>) + 'r>;

/// One recorded rule.
struct Entry<'r> {
    scope: &'static str,
    rule: &'static str,
    clause: &'static str,
    reason: Option<Reason>,
    matched: bool,
    decisive: bool,
    detail: DetailFn<'r>,
}

/// One rule of a recorded trace, as the edge reads it.
#[derive(Clone, Copy)]
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
    detail: &'a dyn Fn(&mut Detail<'_>),
}

impl fmt::Debug for RuleTrace<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleTrace")
            .field("id", &self.id())
            .field("matched", &self.matched)
            .field("decisive", &self.decisive)
            .field("detail", &self.detail(Language::En))
            .finish()
    }
}

impl RuleTrace<'_> {
    /// The stable id, e.g. `floor.period` or `iptv-smarters-pro.within-48h`.
    pub fn id(&self) -> String {
        let mut id = String::with_capacity(self.scope.len() + 1 + self.rule.len());
        id.push_str(self.scope);
        id.push('.');
        id.push_str(self.rule);
        id
    }

    /// The facts the rule compared, written in `lang`.
    pub fn detail(&self, lang: Language) -> String {
        let mut out = String::new();
        self.write_detail(lang, &mut out);
        out
    }

    /// [`RuleTrace::detail`], appended to `out`.
    pub fn write_detail(&self, lang: Language, out: &mut String) {
        (self.detail)(&mut Detail { lang, out });
    }
}

/// Records every rule with its facts; the text is written when read.
pub struct Recorder<'r> {
    scope: &'static str,
    entries: Vec<Entry<'r>>,
}

impl fmt::Debug for Recorder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries()).finish()
    }
}

impl Default for Recorder<'_> {
    fn default() -> Self {
        Recorder::new()
    }
}

impl<'r> Recorder<'r> {
    pub fn new() -> Recorder<'r> {
        Recorder {
            scope: "",
            // The longest traces have 14 rules.
            entries: Vec::with_capacity(16),
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
            detail: &*e.detail,
        })
    }
}

impl<'r> Trace<'r> for Recorder<'r> {
    fn scope(&mut self, scope: &'static str) {
        self.scope = scope;
    }

    fn record(
        &mut self,
        rule: &'static str,
        clause: &'static str,
        reason: Option<Reason>,
        matched: bool,
        detail: impl Fn(&mut Detail<'_>) + 'r,
    ) {
        self.entries.push(Entry {
            scope: self.scope,
            rule,
            clause,
            reason,
            matched,
            decisive: false,
            detail: Box::new(detail),
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
        let mut t = Recorder::new();
        t.scope("p");
        assert!(!t.rule("a", &SILENT, false, |d| d.say(format_args!("no"), format_args!("non"))));
        assert!(t.rule("b", &SILENT, true, |d| d.say(format_args!("yes"), format_args!("oui"))));
        t.settle(&SILENT);
        let e: Vec<_> = t.entries().collect();
        assert_eq!((e[0].decisive, e[1].decisive), (false, true));
        assert_eq!(
            (e[0].detail(Language::Fr), e[1].detail(Language::Fr), e[1].id()),
            ("non".to_owned(), "oui".to_owned(), "p.b".to_owned())
        );
        assert_eq!(e[1].detail(Language::En), "yes");
    }
}
