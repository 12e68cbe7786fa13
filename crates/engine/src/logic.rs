//! The `logic` string of a rule group: `"(1 and 2) or not 3"`, case-insensitive.

/// A parsed logic expression over rule positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logic {
    Rule(usize),
    And(Vec<Logic>),
    Or(Vec<Logic>),
    Not(Box<Logic>),
}

const MAX_DEPTH: usize = 32;

impl Logic {
    /// Parses `logic`, mapping rule keys to positions with `position_of`.
    pub fn parse(logic: &str, position_of: impl Fn(&str) -> Option<usize>) -> Result<Logic, String> {
        let tokens = tokenize(logic)?;
        let mut p = LogicParser { tokens, pos: 0, position_of: &position_of };
        let expr = p.or(0)?;
        if p.pos != p.tokens.len() {
            return Err(format!("unexpected `{}`", p.tokens[p.pos]));
        }
        Ok(expr)
    }

    /// `1 and 2 and …` over `n` rules: the default when a group has no logic.
    pub fn all(n: usize) -> Logic {
        Logic::And((0..n).map(Logic::Rule).collect())
    }

    /// Positions of rules that must pass for the whole to pass (reached through `and` only).
    pub fn required(&self, out: &mut Vec<usize>) {
        match self {
            Logic::Rule(i) => out.push(*i),
            Logic::And(parts) => parts.iter().for_each(|p| p.required(out)),
            Logic::Or(parts) if parts.len() == 1 => parts[0].required(out),
            _ => {}
        }
    }
}

fn tokenize(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c == '(' || c == ')' || c.is_whitespace() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            cur.push(c.to_ascii_lowercase());
        } else {
            return Err(format!("unexpected character `{c}`"));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    if out.is_empty() {
        return Err("empty logic".into());
    }
    Ok(out)
}

struct LogicParser<'a, F: Fn(&str) -> Option<usize>> {
    tokens: Vec<String>,
    pos: usize,
    position_of: &'a F,
}

impl<F: Fn(&str) -> Option<usize>> LogicParser<'_, F> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    fn or(&mut self, depth: usize) -> Result<Logic, String> {
        let mut parts = vec![self.and(depth)?];
        while self.peek() == Some("or") {
            self.pos += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Logic::Or(parts) })
    }

    fn and(&mut self, depth: usize) -> Result<Logic, String> {
        let mut parts = vec![self.not(depth)?];
        while self.peek() == Some("and") {
            self.pos += 1;
            parts.push(self.not(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Logic::And(parts) })
    }

    fn not(&mut self, depth: usize) -> Result<Logic, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nesting deeper than {MAX_DEPTH}"));
        }
        if self.peek() == Some("not") {
            self.pos += 1;
            return Ok(Logic::Not(Box::new(self.not(depth + 1)?)));
        }
        self.atom(depth)
    }

    fn atom(&mut self, depth: usize) -> Result<Logic, String> {
        match self.peek().map(str::to_owned) {
            Some(t) if t == "(" => {
                self.pos += 1;
                let e = self.or(depth + 1)?;
                if self.peek() != Some(")") {
                    return Err("missing `)`".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Some(t) if t == ")" || t == "and" || t == "or" => Err(format!("unexpected `{t}`")),
            Some(t) => {
                self.pos += 1;
                (self.position_of)(&t)
                    .map(Logic::Rule)
                    .ok_or_else(|| format!("refers to rule `{t}`, which does not exist"))
            }
            None => Err("unexpected end".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(k: &str) -> Option<usize> {
        match k {
            "1" => Some(0),
            "2" => Some(1),
            "3" => Some(2),
            _ => None,
        }
    }

    #[test]
    fn parses_precedence_parentheses_and_not() {
        assert_eq!(
            Logic::parse("(1 AND 2) or NOT 3", pos),
            Ok(Logic::Or(vec![Logic::And(vec![Logic::Rule(0), Logic::Rule(1)]), Logic::Not(Box::new(Logic::Rule(2)))]))
        );
        assert_eq!(
            Logic::parse("1 and 2 or 3", pos),
            Ok(Logic::Or(vec![Logic::And(vec![Logic::Rule(0), Logic::Rule(1)]), Logic::Rule(2)]))
        );
    }

    #[test]
    fn rejects_malformed_logic() {
        for bad in ["", "1 and", "(1 or 2", "1 2", "1 and 4", "1 & 2", "and 1", "1 or )"] {
            assert!(Logic::parse(bad, pos).is_err(), "{bad:?} should be rejected");
        }
    }
}
