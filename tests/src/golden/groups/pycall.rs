//! Reads the Python call recorded in a manifest entry (`"call": "img = G(z, c,
//! noise_mode='const', truncation_psi=0.7)"`): the assigned name, positional
//! arguments and keyword arguments, with literal values turned into JSON.

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// One argument: a Python literal (as JSON) or an expression kept as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Literal(Value),
    Expr(String),
}

impl Arg {
    pub fn literal(&self) -> Option<&Value> {
        match self {
            Arg::Literal(v) => Some(v),
            Arg::Expr(_) => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Call {
    /// The variable the result is assigned to (`img` in `img = G(...)`).
    pub target: Option<String>,
    pub function: String,
    pub args: Vec<Arg>,
    pub kwargs: Vec<(String, Arg)>,
}

impl Call {
    pub fn kwarg(&self, name: &str) -> Option<&Arg> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The literal value of keyword `name`, if given as a literal.
    pub fn literal(&self, name: &str) -> Option<&Value> {
        self.kwarg(name).and_then(Arg::literal)
    }
}

/// Splits `s` at top-level occurrences of `sep` (outside brackets and quotes).
fn split_top(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut quote) = (0i32, None::<char>);
    let mut cur = String::new();
    for ch in s.chars() {
        match quote {
            Some(q) => {
                if ch == q {
                    quote = None;
                }
            }
            None => match ch {
                '\'' | '"' => quote = Some(ch),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                c if c == sep && depth == 0 => {
                    out.push(std::mem::take(&mut cur));
                    continue;
                }
                _ => {}
            },
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// A Python literal (numbers, strings, None, True/False, lists, tuples) as
/// JSON; anything else stays an expression.
pub fn literal(text: &str) -> Arg {
    let t = text.trim();
    let mut json = String::with_capacity(t.len());
    let mut quote = None::<char>;
    let mut word = String::new();
    let flush = |word: &mut String, json: &mut String| {
        match word.as_str() {
            "None" => json.push_str("null"),
            "True" => json.push_str("true"),
            "False" => json.push_str("false"),
            w => json.push_str(w),
        }
        word.clear();
    };
    for ch in t.chars() {
        match quote {
            Some(q) if ch == q => {
                json.push('"');
                quote = None;
            }
            Some(_) => json.push(ch),
            None => match ch {
                '\'' | '"' => {
                    flush(&mut word, &mut json);
                    json.push('"');
                    quote = Some(ch);
                }
                '(' => {
                    flush(&mut word, &mut json);
                    json.push('[');
                }
                ')' => {
                    flush(&mut word, &mut json);
                    json.push(']');
                }
                c if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' || c == '+' => {
                    word.push(c)
                }
                c => {
                    flush(&mut word, &mut json);
                    json.push(c);
                }
            },
        }
    }
    flush(&mut word, &mut json);
    match serde_json::from_str::<Value>(&json) {
        Ok(v) => Arg::Literal(v),
        Err(_) => Arg::Expr(t.to_string()),
    }
}

/// Parses `target = function(args...)  # comment` (target and comment optional).
pub fn parse(call: &str) -> Result<Call> {
    let code = call.split(" #").next().unwrap_or(call);
    let open = code
        .find('(')
        .with_context(|| format!("no call in {call:?}"))?;
    let head = &code[..open];
    let (target, function) = match head.rfind('=') {
        Some(eq) if !head[..eq].ends_with(['=', '!', '<', '>']) => (
            Some(head[..eq].trim().to_string()),
            head[eq + 1..].trim().to_string(),
        ),
        _ => (None, head.trim().to_string()),
    };
    let mut depth = 0i32;
    let mut close = None;
    let mut quote = None::<char>;
    for (i, ch) in code[open..].char_indices() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None => match ch {
                '\'' | '"' => quote = Some(ch),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(open + i);
                        break;
                    }
                }
                _ => {}
            },
        }
    }
    let close = close.with_context(|| format!("unbalanced parentheses in {call:?}"))?;
    let mut out = Call {
        target,
        function,
        ..Call::default()
    };
    for piece in split_top(&code[open + 1..close], ',') {
        let p = piece.trim();
        if p.is_empty() {
            continue;
        }
        let parts = split_top(p, '=');
        if parts.len() == 2 && !p.contains("==") {
            let name = parts[0].trim();
            if !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                bail!("cannot read argument {p:?} of {call:?}");
            }
            out.kwargs.push((name.to_string(), literal(&parts[1])));
        } else {
            out.args.push(literal(p));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_targets_positionals_and_keywords() {
        let c = parse("img = G(z, c, noise_mode='const', fused_modconv=False, truncation_psi=0.7)")
            .unwrap();
        assert_eq!(c.target.as_deref(), Some("img"));
        assert_eq!(c.function, "G");
        assert_eq!(c.args.len(), 2);
        assert_eq!(c.literal("noise_mode"), Some(&json!("const")));
        assert_eq!(c.literal("fused_modconv"), Some(&json!(false)));
        assert_eq!(c.literal("truncation_psi"), Some(&json!(0.7)));
        let c = parse("ws = mapping(z, c)  # module.training == True").unwrap();
        assert!(c.kwargs.is_empty());
        let c = parse("setup_filter(wavelets['sym6'], gain=4, flip_filter=True)").unwrap();
        assert_eq!(c.args, vec![Arg::Expr("wavelets['sym6']".into())]);
        assert_eq!(c.literal("gain"), Some(&json!(4)));
        let c =
            parse("y = upfirdn2d(x, f, up=[2, 1], padding=[-1, -2, 1, 0], truncation_cutoff=None)")
                .unwrap();
        assert_eq!(c.literal("up"), Some(&json!([2, 1])));
        assert_eq!(c.literal("padding"), Some(&json!([-1, -2, 1, 0])));
        assert_eq!(c.literal("truncation_cutoff"), Some(&Value::Null));
    }
}
