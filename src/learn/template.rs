//! Endpoint templates: `/orders/123` and `/orders/456` are one endpoint, `/orders/{id}`.
//!
//! Traffic is replayed per endpoint, so paths must be grouped the way the application routes
//! them. The automatic rules collapse path segments that look like identifiers — numbers,
//! UUIDs, long hex hashes, long opaque tokens, dates — and drop the query string. They cannot
//! know an application's slugs (`/items/red-shoe`), so user templates (`/items/{sku}`) are
//! matched first and win.

use super::error::LearnError;

/// One segment of a user template.
#[derive(Debug, Clone)]
enum Seg {
    Literal(Vec<u8>),
    Param,
}

#[derive(Debug, Clone)]
struct UserTemplate {
    text: Vec<u8>,
    segs: Vec<Seg>,
}

/// Turns request targets into endpoint templates.
#[derive(Debug, Clone, Default)]
pub struct Templater {
    user: Vec<UserTemplate>,
}

impl Templater {
    /// A templater with user templates (`/orders/{id}`), tried in order before the rules.
    pub fn new(templates: &[String]) -> Result<Templater, LearnError> {
        let mut user = Vec::new();
        for t in templates {
            let bad = |reason: &str| LearnError::BadTemplate {
                template: t.clone(),
                reason: reason.to_string(),
            };
            if !t.starts_with('/') {
                return Err(bad("a template is a path and starts with '/'"));
            }
            if t.contains(['?', '#', ' ']) {
                return Err(bad("a template has no query, fragment or spaces"));
            }
            let segs = t[1..]
                .split('/')
                .map(|s| {
                    if s.starts_with('{') && s.ends_with('}') && s.len() >= 2 {
                        Ok(Seg::Param)
                    } else if s.contains(['{', '}']) {
                        Err(bad("a placeholder fills a whole segment: /orders/{id}"))
                    } else {
                        Ok(Seg::Literal(s.as_bytes().to_vec()))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            user.push(UserTemplate {
                text: t.as_bytes().to_vec(),
                segs,
            });
        }
        Ok(Templater { user })
    }

    /// Appends the template of `target` to `out`.
    pub fn render(&self, target: &[u8], out: &mut Vec<u8>) {
        let path = path_of(target);
        if path.is_empty() || path == b"/" {
            out.push(b'/');
            return;
        }
        if !self.user.is_empty() {
            if let Some(t) = self.user.iter().find(|t| matches(t, path)) {
                out.extend_from_slice(&t.text);
                return;
            }
        }
        if path[0] != b'/' {
            // `*` (OPTIONS *) or a malformed target: keep it whole.
            out.extend_from_slice(path);
            return;
        }
        for seg in path[1..].split(|&b| b == b'/') {
            out.push(b'/');
            collapse(seg, out);
        }
    }
}

/// The path of a target: no scheme and host, no query, no fragment.
pub fn path_of(target: &[u8]) -> &[u8] {
    let mut t = target;
    for scheme in [&b"http://"[..], b"https://", b"ws://", b"wss://"] {
        if t.len() > scheme.len() && t[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let rest = &t[scheme.len()..];
            t = match rest.iter().position(|&b| b == b'/') {
                Some(i) => &rest[i..],
                None => b"/",
            };
            break;
        }
    }
    let end = t
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(t.len());
    &t[..end]
}

fn matches(t: &UserTemplate, path: &[u8]) -> bool {
    let mut segs = path[1.min(path.len())..].split(|&b| b == b'/');
    for s in &t.segs {
        match (s, segs.next()) {
            (Seg::Param, Some(p)) if !p.is_empty() => {}
            (Seg::Literal(l), Some(p)) if l.as_slice() == p => {}
            _ => return false,
        }
    }
    segs.next().is_none()
}

/// Appends a segment, or `{id}` (keeping an extension: `123.json` → `{id}.json`).
fn collapse(seg: &[u8], out: &mut Vec<u8>) {
    if is_id(seg) {
        out.extend_from_slice(b"{id}");
        return;
    }
    if let Some(dot) = seg.iter().position(|&b| b == b'.') {
        if dot > 0 && is_id(&seg[..dot]) {
            out.extend_from_slice(b"{id}");
            out.extend_from_slice(&seg[dot..]);
            return;
        }
    }
    out.extend_from_slice(seg);
}

/// Does a path segment look like an identifier rather than a route word?
pub fn is_id(seg: &[u8]) -> bool {
    if seg.is_empty() {
        return false;
    }
    let mut digits = 0;
    let mut hex = 0;
    let mut alpha = 0;
    let mut seps = 0;
    let mut other = 0;
    for &b in seg {
        if b.is_ascii_digit() {
            digits += 1;
            hex += 1;
        } else if b.is_ascii_alphabetic() {
            alpha += 1;
            if b.is_ascii_hexdigit() {
                hex += 1;
            }
        } else if matches!(b, b'-' | b'_' | b'.' | b':' | b'%') {
            seps += 1;
        } else {
            other += 1;
        }
    }
    let len = seg.len();
    if other > 0 || digits == 0 {
        return false;
    }
    // 123, 2026-11-27, 12:30, 1.5
    if alpha == 0 {
        return true;
    }
    // UUID: 8-4-4-4-12 hex digits.
    if len == 36 && seps == 4 && [8, 13, 18, 23].iter().all(|&i| seg[i] == b'-') && hex == 32 {
        return true;
    }
    // Hashes and object ids: long runs of hex digits.
    if seps == 0 && hex == len && len >= 16 {
        return true;
    }
    // Opaque tokens: long, letters and digits mixed.
    len >= 20 && digits >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(templater: &Templater, target: &str) -> String {
        let mut out = Vec::new();
        templater.render(target.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn automatic_rules() {
        let x = Templater::default();
        assert_eq!(t(&x, "/orders/123"), "/orders/{id}");
        assert_eq!(t(&x, "/orders/456?page=2"), "/orders/{id}");
        assert_eq!(
            t(&x, "/u/550e8400-e29b-41d4-a716-446655440000/cart"),
            "/u/{id}/cart"
        );
        assert_eq!(
            t(&x, "/blob/9f86d081884c7d659a2feaa0c55ad015"),
            "/blob/{id}"
        );
        assert_eq!(t(&x, "/api/v1/items"), "/api/v1/items");
        assert_eq!(t(&x, "/img/42.png"), "/img/{id}.png");
        assert_eq!(t(&x, "http://h:80/a/7"), "/a/{id}");
        assert_eq!(t(&x, ""), "/");
        assert_eq!(t(&x, "/reports/2026-11-27"), "/reports/{id}");
    }

    #[test]
    fn user_templates_win() {
        let x = Templater::new(&["/items/{sku}".into(), "/a/{x}/b".into()]).unwrap();
        assert_eq!(t(&x, "/items/red-shoe"), "/items/{sku}");
        assert_eq!(t(&x, "/a/zz/b?q"), "/a/{x}/b");
        assert_eq!(t(&x, "/a/zz/c"), "/a/zz/c");
        assert!(Templater::new(&["items".into()]).is_err());
        assert!(Templater::new(&["/a/x{y}".into()]).is_err());
    }
}
