//! The target of a run: the base URL taken apart once, with the TLS connector it needs.

use std::sync::Arc;

use hyper::Uri;
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::error::LoadError;
use super::spec::{Protocol, TlsOptions};
use super::tls::client_config;

#[derive(Clone)]
pub(crate) struct Target {
    /// For DNS: without IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// `host[:port]` as written: the `Host` header and the HTTP/2 `:authority`.
    pub authority: String,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The base URL's path without a trailing `/` (often empty).
    pub prefix: String,
    pub protocol: Protocol,
    pub tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Target {
    pub fn parse(base_url: &str, protocol: Protocol, tls: TlsOptions) -> Result<Target, LoadError> {
        let bad = |why: &str| LoadError::BadUrl {
            url: base_url.to_string(),
            reason: why.to_string(),
        };
        let uri: Uri = base_url.parse().map_err(|e| bad(&format!("{e}")))?;
        let scheme = match uri.scheme_str() {
            Some("http") => "http",
            Some("https") => "https",
            Some(other) => return Err(bad(&format!("the scheme `{other}` is not http or https"))),
            None => return Err(bad("it needs a scheme: http:// or https://")),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| bad("it has no host"))?
            .clone();
        if authority.as_str().contains('@') {
            return Err(bad("user info in the URL is not supported"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if host.is_empty() {
            return Err(bad("it has no host"));
        }
        let port = authority
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        if uri.query().is_some() {
            return Err(bad("put the query in the request path, not the base URL"));
        }
        let prefix = uri.path().trim_end_matches('/').to_string();
        let tls = if scheme == "https" {
            let config =
                client_config(protocol, tls.insecure).map_err(|e| LoadError::Tls(e.to_string()))?;
            let name = ServerName::try_from(host.clone()).map_err(|e| bad(&format!("{e}")))?;
            Some((TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        Ok(Target {
            host,
            port,
            authority: authority.as_str().to_string(),
            scheme,
            prefix,
            protocol,
            tls,
        })
    }
}
