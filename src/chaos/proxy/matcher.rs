//! Which requests an HTTP-aware fault touches: method, path and header matchers, and the
//! service's route templates.
//!
//! The front proxy of a system carries the traffic of every service of that system, so a fault
//! on `shop.catalog` must only touch requests that `catalog`'s routes would produce: the
//! interpreter passes those templates (`/items/{id}`) as [`RoutePattern`]s and `/items/42`
//! matches. A `match path "/api/*"` in the scenario becomes an [`HttpMatcher::Path`].

use hyper::http::request::Parts;

/// What a matcher reads of a request: hyper's parsed parts, or the head the HTTP/1.1
/// forwarding path parsed in place ([`super::h1`]).
pub trait RequestView {
    fn method(&self) -> &str;
    /// The path, with or without its query string.
    fn path(&self) -> &str;
    /// Whether a header `name` is present (`value: None`) or has exactly this value.
    fn has_header(&self, name: &str, value: Option<&[u8]>) -> bool;
}

impl RequestView for Parts {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    fn path(&self) -> &str {
        self.uri.path()
    }

    fn has_header(&self, name: &str, value: Option<&[u8]>) -> bool {
        let mut found = self.headers.get_all(name).iter().peekable();
        match value {
            None => found.peek().is_some(),
            Some(v) => found.any(|h| h.as_bytes() == v),
        }
    }
}

/// A path pattern: literal text, `{name}` for one non-empty path segment (or part of one),
/// and `*` for anything, slashes included. Without `*` or `{..}` the match is exact. The query
/// string is never part of the match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    text: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Lit(Vec<u8>),
    /// `{name}`: one or more bytes other than `/`.
    Param,
    /// `*`: zero or more bytes.
    Star,
}

impl PathPattern {
    /// Parses a pattern; an unclosed `{` is taken literally. A query part (`?q={x}`) is dropped.
    pub fn new(pattern: &str) -> PathPattern {
        let path = pattern.split('?').next().unwrap_or("");
        let mut tokens = Vec::new();
        let mut lit = Vec::new();
        let bytes = path.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'*' => {
                    flush(&mut lit, &mut tokens);
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                    i += 1;
                }
                b'{' => match bytes[i..].iter().position(|&b| b == b'}') {
                    Some(close) => {
                        flush(&mut lit, &mut tokens);
                        tokens.push(Token::Param);
                        i += close + 1;
                    }
                    None => {
                        lit.push(b'{');
                        i += 1;
                    }
                },
                b => {
                    lit.push(b);
                    i += 1;
                }
            }
        }
        flush(&mut lit, &mut tokens);
        PathPattern {
            text: pattern.to_string(),
            tokens,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `path` (with or without a query string) matches.
    pub fn matches(&self, path: &str) -> bool {
        let path = path.split('?').next().unwrap_or("").as_bytes();
        // reach[i]: the tokens so far can consume exactly path[..i]. O(tokens × len).
        let n = path.len();
        let mut reach = vec![false; n + 1];
        reach[0] = true;
        for token in &self.tokens {
            let mut next = vec![false; n + 1];
            match token {
                Token::Lit(lit) => {
                    for i in 0..=n {
                        if reach[i] && path[i..].starts_with(lit) {
                            next[i + lit.len()] = true;
                        }
                    }
                }
                Token::Star => {
                    let mut on = false;
                    for i in 0..=n {
                        on |= reach[i];
                        next[i] = on;
                    }
                }
                Token::Param => {
                    for (i, _) in reach.iter().enumerate().take(n).filter(|(_, r)| **r) {
                        let mut j = i;
                        while j < n && path[j] != b'/' {
                            j += 1;
                            next[j] = true;
                        }
                    }
                }
            }
            reach = next;
            if !reach.iter().any(|&r| r) {
                return false;
            }
        }
        reach[n]
    }
}

fn flush(lit: &mut Vec<u8>, tokens: &mut Vec<Token>) {
    if !lit.is_empty() {
        tokens.push(Token::Lit(std::mem::take(lit)));
    }
}

/// One condition of a `match` clause; every matcher of a fault must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpMatcher {
    /// The request method, compared without regard to case.
    Method(String),
    Path(PathPattern),
    /// A header is present (`value: None`) or has exactly this value.
    Header {
        name: String,
        value: Option<String>,
    },
}

impl HttpMatcher {
    pub fn path(pattern: &str) -> HttpMatcher {
        HttpMatcher::Path(PathPattern::new(pattern))
    }

    pub fn matches<R: RequestView + ?Sized>(&self, req: &R) -> bool {
        match self {
            HttpMatcher::Method(m) => req.method().eq_ignore_ascii_case(m),
            HttpMatcher::Path(p) => p.matches(req.path()),
            HttpMatcher::Header { name, value } => {
                req.has_header(name, value.as_deref().map(str::as_bytes))
            }
        }
    }
}

/// A service's route: `POST /checkout`, `GET /items/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    /// `None` matches any method.
    pub method: Option<String>,
    pub path: PathPattern,
}

impl RoutePattern {
    pub fn new(method: Option<&str>, path: &str) -> RoutePattern {
        RoutePattern {
            method: method.map(str::to_string),
            path: PathPattern::new(path),
        }
    }

    pub fn matches<R: RequestView + ?Sized>(&self, req: &R) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| req.method().eq_ignore_ascii_case(m))
            && self.path.matches(req.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_patterns() {
        let p = PathPattern::new("/items/{id}");
        assert!(p.matches("/items/42"));
        assert!(p.matches("/items/42?x=1"));
        assert!(!p.matches("/items/"));
        assert!(!p.matches("/items/42/x"));
        assert!(PathPattern::new("/api/*").matches("/api/a/b"));
        assert!(PathPattern::new("/api/*").matches("/api/"));
        assert!(!PathPattern::new("/api/*").matches("/apix"));
        assert!(PathPattern::new("*").matches("/anything"));
        assert!(PathPattern::new("/checkout").matches("/checkout"));
        assert!(!PathPattern::new("/checkout").matches("/checkout/1"));
        assert!(PathPattern::new("/a/*/c").matches("/a/b/x/c"));
        assert!(PathPattern::new("/search?q={term.word}").matches("/search?q=shoes"));
        assert!(PathPattern::new("/u/{a}-{b}").matches("/u/x-y"));
        assert!(PathPattern::new("/x{").matches("/x{"));
    }
}
