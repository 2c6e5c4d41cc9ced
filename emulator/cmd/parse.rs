//! Reading a command line as cmd.exe does after `%` expansion: operators (`&`, `&&`, `||`, `|`),
//! blocks, `if`, `for`, redirections, carets and quotes (CMD-05, CMD-06, CMD-16, CMD-21).

/// Where a redirection sends (or takes) a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file path as typed (quotes removed); `nul` is the NUL device.
    File(String),
    /// Another handle (`2>&1`).
    Handle(u8),
}

/// One redirection: handle 0 (`<`), 1 (`>`) or 2 (`2>`), its target, and `>>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redir {
    /// The handle redirected.
    pub handle: u8,
    /// Where it goes.
    pub target: Target,
    /// `>>`: append instead of truncating.
    pub append: bool,
}

/// How two commands are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// `&`: both run.
    Then,
    /// `&&`: the second runs if the first exited 0.
    And,
    /// `||`: the second runs if the first failed.
    Or,
    /// `|`: the first's output is the second's input.
    Pipe,
}

/// The test of an `if`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// `errorlevel N`: ERRORLEVEL >= N.
    ErrorLevel(String),
    /// `exist path`.
    Exist(String),
    /// `defined NAME`.
    Defined(String),
    /// `cmdextversion N`.
    CmdExtVersion(String),
    /// `a==b` or `a OP b`, with `/i`.
    Compare {
        /// Left operand as typed (quotes kept).
        left: String,
        /// `==`, `EQU`, `NEQ`, `LSS`, `LEQ`, `GTR` or `GEQ` (upper case).
        op: String,
        /// Right operand as typed.
        right: String,
        /// `/i`: ignore case.
        ignore_case: bool,
    },
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// One command: its text with carets resolved and redirections removed, quotes kept.
    Simple {
        /// The command and its arguments.
        text: String,
        /// Redirections, in the order typed.
        redirs: Vec<Redir>,
    },
    /// Two commands joined by an operator.
    Join(Box<Node>, Join, Box<Node>),
    /// `( ... )` with redirections applying to all of it.
    Block(Vec<Node>, Vec<Redir>),
    /// `if [not] cond command [else command]`.
    If {
        /// `not`.
        not: bool,
        /// The test.
        cond: Cond,
        /// The command when the test holds.
        then: Box<Node>,
        /// The command after `else`.
        otherwise: Option<Box<Node>>,
    },
    /// `for [/d|/r|/l|/f] %X in (set) do command`; the body is kept as text, parsed per item.
    For {
        /// `/d`, `/r`, `/l`, `/f` (lower case, empty for none).
        switch: String,
        /// The switch's argument (`/r` path or `/f` options).
        switch_arg: String,
        /// The loop variable's letter.
        var: char,
        /// The items between the parentheses.
        set: String,
        /// The body as typed.
        body: String,
    },
    /// Nothing (an empty line or a lone `@`).
    Empty,
}

/// A command line that cannot be parsed: the token cmd names in `<token> was unexpected at this
/// time.` (CMD-16, CMD-28).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexpected(pub String);

/// Parses an expanded command line. A leading `@` is dropped.
pub fn parse(line: &str) -> Result<Node, Unexpected> {
    let mut p = Parser { c: line.chars().collect(), i: 0, depth: 0 };
    let node = p.list()?;
    p.ws();
    if p.i < p.c.len() {
        // An unmatched `)` at the prompt is ignored by cmd, like a comment; iisim follows.
        return Ok(node);
    }
    Ok(node)
}

struct Parser {
    c: Vec<char>,
    i: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c == ' ' || c == '\t') {
            self.i += 1;
        }
    }

    /// A sequence joined by `&` (lowest precedence), `&&`/`||`, then `|`.
    fn list(&mut self) -> Result<Node, Unexpected> {
        let mut left = self.cond_chain()?;
        loop {
            self.ws();
            if self.peek() == Some('&') && self.peek_at(1) != Some('&') {
                self.i += 1;
                let right = self.cond_chain()?;
                left = Node::Join(Box::new(left), Join::Then, Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn cond_chain(&mut self) -> Result<Node, Unexpected> {
        let mut left = self.pipeline()?;
        loop {
            self.ws();
            let op = match (self.peek(), self.peek_at(1)) {
                (Some('&'), Some('&')) => Join::And,
                (Some('|'), Some('|')) => Join::Or,
                _ => return Ok(left),
            };
            self.i += 2;
            let right = self.pipeline()?;
            if right == Node::Empty {
                let tok = if op == Join::And { "&&" } else { "||" };
                return Err(Unexpected(tok.into()));
            }
            left = Node::Join(Box::new(left), op, Box::new(right));
        }
    }

    fn pipeline(&mut self) -> Result<Node, Unexpected> {
        let mut left = self.command()?;
        loop {
            self.ws();
            if self.peek() == Some('|') && self.peek_at(1) != Some('|') {
                self.i += 1;
                let right = self.command()?;
                if right == Node::Empty || left == Node::Empty {
                    return Err(Unexpected("|".into()));
                }
                left = Node::Join(Box::new(left), Join::Pipe, Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    /// The word at the cursor without consuming it, lower case.
    fn word_ahead(&self) -> String {
        self.c[self.i..]
            .iter()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | '&' | '|' | '<' | '>' | '"'))
            .collect::<String>()
            .to_ascii_lowercase()
    }

    fn command(&mut self) -> Result<Node, Unexpected> {
        self.ws();
        while self.peek() == Some('@') {
            self.i += 1;
            self.ws();
        }
        match self.peek() {
            None => return Ok(Node::Empty),
            Some('(') => return self.block(),
            Some(')') if self.depth > 0 => return Ok(Node::Empty),
            _ => {}
        }
        let word = self.word_ahead();
        match word.as_str() {
            "if" => {
                self.i += 2;
                return self.if_command();
            }
            "for" => {
                self.i += 3;
                return self.for_command();
            }
            // rem takes the rest of the line, operators and redirections included (CMD-18).
            "rem" => {
                let text: String = self.c[self.i..].iter().collect();
                self.i = self.c.len();
                return Ok(Node::Simple { text, redirs: Vec::new() });
            }
            _ => {}
        }
        self.simple()
    }

    fn block(&mut self) -> Result<Node, Unexpected> {
        self.i += 1;
        self.depth += 1;
        let mut items = Vec::new();
        loop {
            self.ws();
            match self.peek() {
                None => {
                    self.depth -= 1;
                    return Err(Unexpected("(".into()));
                }
                Some(')') => {
                    self.i += 1;
                    break;
                }
                Some('\n') => self.i += 1,
                _ => {
                    let n = self.list()?;
                    if n != Node::Empty {
                        items.push(n);
                    }
                    self.ws();
                    if self.peek() == Some('\n') {
                        self.i += 1;
                    }
                }
            }
        }
        self.depth -= 1;
        let mut redirs = Vec::new();
        loop {
            self.ws();
            match self.redirection(None)? {
                Some(r) => redirs.push(r),
                None => break,
            }
        }
        Ok(Node::Block(items, redirs))
    }

    /// Reads a redirection at the cursor, if one starts there; `handle` is a digit already read.
    fn redirection(&mut self, handle: Option<u8>) -> Result<Option<Redir>, Unexpected> {
        let (h, append) = match (self.peek(), self.peek_at(1)) {
            (Some('>'), Some('>')) => {
                self.i += 2;
                (handle.unwrap_or(1), true)
            }
            (Some('>'), _) => {
                self.i += 1;
                (handle.unwrap_or(1), false)
            }
            (Some('<'), _) => {
                self.i += 1;
                (handle.unwrap_or(0), false)
            }
            (Some(d @ '0'..='9'), Some('>' | '<')) if handle.is_none() => {
                self.i += 1;
                return self.redirection(Some(d as u8 - b'0'));
            }
            _ => return Ok(None),
        };
        self.ws();
        if self.peek() == Some('&') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            let d = self.peek_at(1).unwrap_or('1') as u8 - b'0';
            self.i += 2;
            return Ok(Some(Redir { handle: h, target: Target::Handle(d), append }));
        }
        let mut path = String::new();
        let mut quoted = false;
        while let Some(c) = self.peek() {
            if c == '"' {
                quoted = !quoted;
            } else if !quoted
                && (c.is_whitespace() || matches!(c, '&' | '|' | '<' | '>') || (c == ')' && self.depth > 0))
            {
                break;
            } else if c == '^' && !quoted {
                self.i += 1;
                if let Some(n) = self.peek() {
                    path.push(n);
                }
            } else {
                path.push(c);
            }
            self.i += 1;
        }
        if path.is_empty() {
            return Err(Unexpected("newline".into()));
        }
        Ok(Some(Redir { handle: h, target: Target::File(path), append }))
    }

    /// A simple command up to an unquoted operator, with its redirections lifted out.
    fn simple(&mut self) -> Result<Node, Unexpected> {
        let mut text = String::new();
        let mut redirs = Vec::new();
        let mut quoted = false;
        while let Some(c) = self.peek() {
            if quoted {
                text.push(c);
                self.i += 1;
                if c == '"' {
                    quoted = false;
                }
                continue;
            }
            match c {
                '"' => {
                    quoted = true;
                    text.push(c);
                    self.i += 1;
                }
                '^' => {
                    self.i += 1;
                    if let Some(n) = self.peek() {
                        text.push(n);
                        self.i += 1;
                    }
                }
                '&' | '|' | '\n' => break,
                ')' if self.depth > 0 => break,
                '>' | '<' => {
                    if let Some(r) = self.redirection(None)? {
                        redirs.push(r);
                    }
                }
                d if d.is_ascii_digit()
                    && matches!(self.peek_at(1), Some('>' | '<'))
                    && (text.is_empty() || text.ends_with([' ', '\t'])) =>
                {
                    if let Some(r) = self.redirection(None)? {
                        redirs.push(r);
                    }
                }
                _ => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        // Spaces before a redirection or operator stay part of echo's and set's text, as in
        // cmd (`set X=1 & ...` sets "1 "); other commands lose them with the word splitting.
        let trimmed = text.trim_start().to_string();
        if trimmed.trim().is_empty() && redirs.is_empty() {
            return Ok(Node::Empty);
        }
        let first = trimmed.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        let text = if first.starts_with("echo") || first.starts_with("set") {
            trimmed
        } else {
            trimmed.trim_end().to_string()
        };
        Ok(Node::Simple { text, redirs })
    }

    /// An operand of `if`: a word, quotes kept, up to whitespace or `==`.
    fn operand(&mut self) -> String {
        self.ws();
        let mut s = String::new();
        let mut quoted = false;
        while let Some(c) = self.peek() {
            if c == '"' {
                quoted = !quoted;
            } else if !quoted {
                if c.is_whitespace() || matches!(c, '&' | '|' | '(' | ')' | '<' | '>') {
                    break;
                }
                if c == '=' && self.peek_at(1) == Some('=') {
                    break;
                }
                if c == '^' {
                    self.i += 1;
                    if let Some(n) = self.peek() {
                        s.push(n);
                        self.i += 1;
                    }
                    continue;
                }
            }
            s.push(c);
            self.i += 1;
        }
        s
    }

    fn if_command(&mut self) -> Result<Node, Unexpected> {
        let mut not = false;
        let mut ignore_case = false;
        let mut first;
        loop {
            first = self.operand();
            match first.to_ascii_lowercase().as_str() {
                "/i" => ignore_case = true,
                "not" if !not => not = true,
                _ => break,
            }
        }
        let lower = first.to_ascii_lowercase();
        let cond = match lower.as_str() {
            "" => return Err(Unexpected(self.rest_token())),
            "errorlevel" => Cond::ErrorLevel(self.required()?),
            "exist" => Cond::Exist(self.required()?),
            "defined" => Cond::Defined(self.required()?),
            "cmdextversion" => Cond::CmdExtVersion(self.required()?),
            _ => {
                self.ws();
                let op = if self.peek() == Some('=') && self.peek_at(1) == Some('=') {
                    self.i += 2;
                    while self.peek() == Some('=') {
                        self.i += 1;
                    }
                    "==".to_string()
                } else {
                    let typed = self.operand();
                    let w = typed.to_ascii_uppercase();
                    if !["EQU", "NEQ", "LSS", "LEQ", "GTR", "GEQ"].contains(&w.as_str()) {
                        return Err(Unexpected(if w.is_empty() { self.rest_token() } else { typed }));
                    }
                    w
                };
                let right = self.operand();
                if right.is_empty() {
                    return Err(Unexpected(self.rest_token()));
                }
                Cond::Compare { left: first, op, right, ignore_case }
            }
        };
        let then = self.command()?;
        if then == Node::Empty {
            return Err(Unexpected("newline".into()));
        }
        let mut otherwise = None;
        if matches!(then, Node::Block(..)) {
            let save = self.i;
            self.ws();
            if self.word_ahead() == "else" {
                self.i += 4;
                let e = self.command()?;
                otherwise = Some(Box::new(e));
            } else {
                self.i = save;
            }
        }
        Ok(Node::If { not, cond, then: Box::new(then), otherwise })
    }

    fn required(&mut self) -> Result<String, Unexpected> {
        let w = self.operand();
        if w.is_empty() {
            return Err(Unexpected(self.rest_token()));
        }
        Ok(w)
    }

    /// The token cmd would name in its complaint: what follows, or `newline` at the end.
    fn rest_token(&self) -> String {
        let rest: String = self.c[self.i..].iter().collect();
        rest.split_whitespace().next().map(str::to_string).unwrap_or_else(|| "newline".into())
    }

    fn for_command(&mut self) -> Result<Node, Unexpected> {
        let mut switch = String::new();
        let mut switch_arg = String::new();
        let mut w = self.operand();
        if let Some(s) = w.strip_prefix('/') {
            switch = s.to_ascii_lowercase();
            w = self.operand();
            if (switch == "r" || switch == "f") && !w.starts_with('%') {
                switch_arg = w;
                w = self.operand();
            }
        }
        let mut chars = w.chars();
        let var = match (chars.next(), chars.next(), chars.next()) {
            (Some('%'), Some(v), None) => v,
            _ => return Err(Unexpected(if w.is_empty() { "newline".into() } else { w })),
        };
        let kw = self.operand();
        if !kw.eq_ignore_ascii_case("in") {
            return Err(Unexpected(if kw.is_empty() { "newline".into() } else { kw }));
        }
        self.ws();
        if self.peek() != Some('(') {
            return Err(Unexpected(self.rest_token()));
        }
        self.i += 1;
        let mut set = String::new();
        let mut quoted = false;
        loop {
            match self.peek() {
                None => return Err(Unexpected("newline".into())),
                Some('"') => quoted = !quoted,
                Some(')') if !quoted => break,
                _ => {}
            }
            set.push(self.c[self.i]);
            self.i += 1;
        }
        self.i += 1;
        let kw = self.operand();
        if !kw.eq_ignore_ascii_case("do") {
            return Err(Unexpected(if kw.is_empty() { "newline".into() } else { kw }));
        }
        self.ws();
        let start = self.i;
        let body = self.command()?;
        if body == Node::Empty {
            return Err(Unexpected("newline".into()));
        }
        let body: String = self.c[start..self.i].iter().collect();
        Ok(Node::For { switch, switch_arg, var, set: set.trim().to_string(), body: body.trim_end().to_string() })
    }
}

/// Splits the text of a simple command into its first word and the rest as cmd does for
/// built-ins: the word ends at a space, tab, `,`, `;`, `=`, or (for a few built-ins) `.`, `\`,
/// `/`, `:`, `(`.
pub fn split_command(text: &str) -> (String, String) {
    let t = text.trim_start_matches([' ', '\t', ',', ';', '=']);
    if let Some(rest) = t.strip_prefix('"') {
        let end = rest.find('"').map(|e| e + 2).unwrap_or(t.len());
        return (t[..end].to_string(), t[end..].to_string());
    }
    let end = t.find([' ', '\t', ',', ';', '=', '"']).unwrap_or(t.len());
    let word = &t[..end];
    let lower = word.to_ascii_lowercase();
    for b in ["echo", "cd", "chdir", "md", "rd", "dir", "type", "call", "goto", "pushd", "popd"] {
        if let Some(after) = lower.strip_prefix(b) {
            let next = after.chars().next();
            let joins = match b {
                "echo" => matches!(next, Some('.' | ':' | '(' | '\\' | '/' | '[' | ']' | '+')),
                "goto" | "call" => matches!(next, Some(':')),
                _ => matches!(next, Some('.' | '\\' | '/')),
            };
            if joins {
                return (word[..b.len()].to_string(), t[b.len()..].to_string());
            }
        }
    }
    (word.to_string(), t[end..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple(text: &str) -> Node {
        Node::Simple { text: text.into(), redirs: Vec::new() }
    }

    #[test]
    fn operators_and_precedence() {
        let n = parse("a & b && c || d").unwrap();
        let want = Node::Join(
            Box::new(simple("a")),
            Join::Then,
            Box::new(Node::Join(
                Box::new(Node::Join(Box::new(simple("b")), Join::And, Box::new(simple("c")))),
                Join::Or,
                Box::new(simple("d")),
            )),
        );
        assert_eq!(n, want);
    }

    #[test]
    fn redirections_are_lifted_out() {
        let cases: &[(&str, &str, Vec<Redir>)] = &[
            (
                "aspnet_regiis -s W3SVC/1 > C:\\log.txt 2>&1",
                "aspnet_regiis -s W3SVC/1",
                vec![
                    Redir { handle: 1, target: Target::File("C:\\log.txt".into()), append: false },
                    Redir { handle: 2, target: Target::Handle(1), append: false },
                ],
            ),
            (
                "echo x>>\"C:\\a b.txt\"",
                "echo x",
                vec![Redir { handle: 1, target: Target::File("C:\\a b.txt".into()), append: true }],
            ),
            (
                "net stop w3svc 2>nul",
                "net stop w3svc",
                vec![Redir { handle: 2, target: Target::File("nul".into()), append: false }],
            ),
            (
                "set /p X=<nul",
                "set /p X=",
                vec![Redir { handle: 0, target: Target::File("nul".into()), append: false }],
            ),
            ("echo a2>x", "echo a2", vec![Redir { handle: 1, target: Target::File("x".into()), append: false }]),
            ("echo \"a > b\"", "echo \"a > b\"", vec![]),
            ("echo a ^> b", "echo a > b", vec![]),
        ];
        for (line, text, redirs) in cases {
            assert_eq!(parse(line).unwrap(), Node::Simple { text: text.to_string(), redirs: redirs.clone() }, "{line}");
        }
    }

    #[test]
    fn carets_and_quotes() {
        let cases = [
            ("echo a ^& b", "echo a & b"),
            ("echo ^^", "echo ^"),
            ("echo \"x & y\"", "echo \"x & y\""),
            ("   echo    spaced   ", "echo    spaced   "),
            ("@echo off", "echo off"),
        ];
        for (line, text) in cases {
            assert_eq!(parse(line).unwrap(), simple(text), "{line}");
        }
    }

    #[test]
    fn if_forms() {
        let n = parse("if not errorlevel 1 echo ok").unwrap();
        assert_eq!(
            n,
            Node::If {
                not: true,
                cond: Cond::ErrorLevel("1".into()),
                then: Box::new(simple("echo ok")),
                otherwise: None
            }
        );
        let n = parse("if \"%1\"==\"\" (echo none) else (echo some)").unwrap();
        let Node::If { cond, otherwise, .. } = n else { panic!("not an if") };
        assert_eq!(
            cond,
            Cond::Compare { left: "\"%1\"".into(), op: "==".into(), right: "\"\"".into(), ignore_case: false }
        );
        assert!(otherwise.is_some());
        let n = parse("if /i %X% EQU abc echo y").unwrap();
        assert!(matches!(n, Node::If { cond: Cond::Compare { ignore_case: true, .. }, .. }));
        assert_eq!(parse("if exist"), Err(Unexpected("newline".into())));
        assert_eq!(parse("if a b echo"), Err(Unexpected("b".into())));
    }

    #[test]
    fn for_keeps_its_body_as_text() {
        let n = parse("for %f in (a.txt b.txt) do echo %f & echo done").unwrap();
        let Node::Join(f, Join::Then, _) = n else { panic!("for is one command of the list") };
        assert_eq!(
            *f,
            Node::For {
                switch: String::new(),
                switch_arg: String::new(),
                var: 'f',
                set: "a.txt b.txt".into(),
                body: "echo %f".into()
            }
        );
        assert!(parse("for %f in a do echo").is_err());
    }

    #[test]
    fn command_words() {
        let cases = [
            ("echo.", ("echo", ".")),
            ("cd..", ("cd", "..")),
            ("cd\\", ("cd", "\\")),
            ("goto:eof", ("goto", ":eof")),
            ("  cscript //nologo x.vbs", ("cscript", " //nologo x.vbs")),
            ("\"C:\\Program Files\\x.exe\" -a", ("\"C:\\Program Files\\x.exe\"", " -a")),
            ("echoes", ("echoes", "")),
            ("set,X=1", ("set", ",X=1")),
        ];
        for (text, (w, r)) in cases {
            assert_eq!(split_command(text), (w.to_string(), r.to_string()), "{text}");
        }
    }
}
