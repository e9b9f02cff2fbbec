//! The password policy (NIST SP 800-63B §5.1.1.2): a length window, no composition rules,
//! refused when the `zxcvbn` estimator — which embeds the common breached-password lists,
//! dictionaries, keyboard patterns, dates and sequences — scores it below [`MIN_SCORE`]
//! (the user's e-mail, name and company count as known words), or when it contains the
//! user's e-mail (or its local part), name or company name.
//!
//! Every place a password is set (sign-up, user creation, password change, reset) calls
//! [`check`]; the SPA's strength meter asks [`assess`] through
//! `POST /api/v1/auth/password-strength`, so the meter and the server judge alike.

use crate::validate::Check;
use hotline_wire::api::{password_policy as policy, PasswordStrength};

pub use policy::{MAX_CHARS, MIN_CHARS, MIN_SCORE};

/// What is known about the person choosing a password; any part may be empty.
#[derive(Debug, Default, Clone, Copy)]
pub struct Context<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub company: &'a str,
}

/// The shortest piece of e-mail, name or company that a password may not contain.
const MIN_PERSONAL_CHARS: usize = 4;

/// Judges a password. `ok` is the policy's verdict; `problem` its reason (a stable code of
/// [`policy`]); `warning` and `suggestions` are zxcvbn's feedback as stable keys.
pub fn assess(password: &str, ctx: &Context) -> PasswordStrength {
    let chars = password.chars().count();
    let mut out = PasswordStrength {
        ok: false,
        score: 0,
        problem: None,
        warning: None,
        suggestions: Vec::new(),
    };
    if chars > MAX_CHARS {
        // Not estimated: zxcvbn's work grows with the length.
        out.problem = Some(policy::TOO_LONG.into());
        return out;
    }
    if chars == 0 {
        out.problem = Some(policy::TOO_SHORT.into());
        return out;
    }
    let inputs = user_inputs(ctx);
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &refs);
    out.score = u8::from(estimate.score());
    if let Some(f) = estimate.feedback() {
        out.warning = f.warning().map(warning_key).map(str::to_string);
        out.suggestions = f
            .suggestions()
            .iter()
            .map(|s| suggestion_key(*s).to_string())
            .collect();
    }
    out.problem = if chars < MIN_CHARS {
        Some(policy::TOO_SHORT.into())
    } else if contains_personal(password, ctx) {
        Some(policy::PERSONAL.into())
    } else if out.score < MIN_SCORE {
        Some(policy::WEAK.into())
    } else {
        None
    };
    out.ok = out.problem.is_none();
    out
}

/// Adds the policy's refusal of `password` (if any) to `c` under `field`.
pub fn check(c: &mut Check, field: &str, password: &str, ctx: &Context) {
    let verdict = assess(password, ctx);
    if let Some(problem) = verdict.problem.as_deref() {
        let mut message = policy::message(problem).to_string();
        if problem == policy::WEAK {
            if let Some(w) = verdict.warning.as_deref().and_then(warning_text) {
                message = format!("{message} ({w})");
            }
        }
        c.fail(field, message);
    }
}

/// The words zxcvbn should treat as known: the e-mail, its local part and that part's pieces,
/// the name and its words, the company and its words.
fn user_inputs(ctx: &Context) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: &str| {
        let s = s.trim().to_lowercase();
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    let email = ctx.email.trim();
    push(email);
    let local = email.split('@').next().unwrap_or_default();
    push(local);
    for piece in split_words(local) {
        push(piece);
    }
    for text in [ctx.name, ctx.company] {
        push(text);
        for w in split_words(text) {
            push(w);
        }
    }
    out
}

fn split_words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Lower-case letters and digits only, so "Ann.Lee", "ann lee" and "annlee" compare alike.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The password contains (ignoring case, spaces and punctuation) the whole e-mail, its local
/// part, the whole name or one of its words, or the whole company name — any of at least
/// [`MIN_PERSONAL_CHARS`] characters. A single word of the company's name is not refused by
/// itself (company names are made of ordinary words); zxcvbn counts it as known instead.
fn contains_personal(password: &str, ctx: &Context) -> bool {
    let pw = squash(password);
    let local = ctx.email.trim().split('@').next().unwrap_or_default();
    let mut needles: Vec<String> = vec![
        squash(ctx.email),
        squash(local),
        squash(ctx.name),
        squash(ctx.company),
    ];
    needles.extend(split_words(local).map(squash));
    needles.extend(split_words(ctx.name).map(squash));
    needles
        .iter()
        .filter(|n| n.chars().count() >= MIN_PERSONAL_CHARS)
        .any(|n| pw.contains(n.as_str()))
}

fn warning_key(w: zxcvbn::feedback::Warning) -> &'static str {
    use zxcvbn::feedback::Warning::*;
    match w {
        StraightRowsOfKeysAreEasyToGuess => "straight-rows",
        ShortKeyboardPatternsAreEasyToGuess => "keyboard-pattern",
        RepeatsLikeAaaAreEasyToGuess => "repeats",
        RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => "repeated-words",
        ThisIsATop10Password => "top10",
        ThisIsATop100Password => "top100",
        ThisIsACommonPassword => "common",
        ThisIsSimilarToACommonlyUsedPassword => "similar-to-common",
        SequencesLikeAbcAreEasyToGuess => "sequences",
        RecentYearsAreEasyToGuess => "recent-years",
        AWordByItselfIsEasyToGuess => "single-word",
        DatesAreOftenEasyToGuess => "dates",
        NamesAndSurnamesByThemselvesAreEasyToGuess => "names",
        CommonNamesAndSurnamesAreEasyToGuess => "common-names",
    }
}

/// zxcvbn's English text for a warning key (for API clients; the SPA translates the key).
fn warning_text(key: &str) -> Option<String> {
    use zxcvbn::feedback::Warning::*;
    [
        StraightRowsOfKeysAreEasyToGuess,
        ShortKeyboardPatternsAreEasyToGuess,
        RepeatsLikeAaaAreEasyToGuess,
        RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess,
        ThisIsATop10Password,
        ThisIsATop100Password,
        ThisIsACommonPassword,
        ThisIsSimilarToACommonlyUsedPassword,
        SequencesLikeAbcAreEasyToGuess,
        RecentYearsAreEasyToGuess,
        AWordByItselfIsEasyToGuess,
        DatesAreOftenEasyToGuess,
        NamesAndSurnamesByThemselvesAreEasyToGuess,
        CommonNamesAndSurnamesAreEasyToGuess,
    ]
    .into_iter()
    .find(|w| warning_key(*w) == key)
    .map(|w| w.to_string().trim_end_matches('.').to_string())
}

fn suggestion_key(s: zxcvbn::feedback::Suggestion) -> &'static str {
    use zxcvbn::feedback::Suggestion::*;
    match s {
        UseAFewWordsAvoidCommonPhrases => "few-words",
        NoNeedForSymbolsDigitsOrUppercaseLetters => "no-symbols-needed",
        AddAnotherWordOrTwo => "add-word",
        CapitalizationDoesntHelpVeryMuch => "capitalization",
        AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => "all-uppercase",
        ReversedWordsArentMuchHarderToGuess => "reversed",
        PredictableSubstitutionsDontHelpVeryMuch => "substitutions",
        UseALongerKeyboardPatternWithMoreTurns => "longer-keyboard",
        AvoidRepeatedWordsAndCharacters => "avoid-repeats",
        AvoidSequences => "avoid-sequences",
        AvoidRecentYears => "avoid-recent-years",
        AvoidYearsThatAreAssociatedWithYou => "avoid-your-years",
        AvoidDatesAndYearsThatAreAssociatedWithYou => "avoid-your-dates",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANN: Context = Context {
        email: "ann.lee@acme-water.example",
        name: "Ann Lee",
        company: "Acme Water",
    };

    fn problem(pw: &str) -> Option<String> {
        assess(pw, &ANN).problem
    }

    #[test]
    fn weak_and_common_passwords_are_refused() {
        for pw in [
            "aaaaaaaaaa",
            "1234567890",
            "password123",
            "qwertyuiop",
            "iloveyou12",
        ] {
            assert_eq!(problem(pw).as_deref(), Some(policy::WEAK), "{pw}");
        }
        assert_eq!(problem("short").as_deref(), Some(policy::TOO_SHORT));
        assert_eq!(problem("").as_deref(), Some(policy::TOO_SHORT));
        assert_eq!(
            problem(&"x".repeat(MAX_CHARS + 1)).as_deref(),
            Some(policy::TOO_LONG)
        );
    }

    #[test]
    fn personal_words_are_refused() {
        for pw in [
            "ann.lee plays the cello",
            "Tuesday Ann-Lee cello",
            "cello tuesday AcmeWater",
            "ann.lee@acme-water.example!",
        ] {
            assert_eq!(problem(pw).as_deref(), Some(policy::PERSONAL), "{pw}");
        }
    }

    #[test]
    fn fair_passwords_pass() {
        for pw in [
            "correct horse battery",
            "cello tuesday lighthouse",
            "hotline-demo-1",
            "water under the bridge 42",
        ] {
            let v = assess(pw, &ANN);
            assert!(v.ok, "{pw}: {v:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_field_and_says_why() {
        let mut c = Check::new();
        check(&mut c, "password", "1234567890", &ANN);
        let Err(crate::error::ApiError::Validation(errs)) = c.finish() else {
            panic!("not refused")
        };
        assert_eq!(errs[0].field, "password");
        assert!(errs[0].message.starts_with(policy::message(policy::WEAK)));
    }
}
