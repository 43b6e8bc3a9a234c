//! The registry token flow (distribution "token authentication"), for the few requests we make
//! beside oci-client (login checks, the referrers-API probe): parse a `WWW-Authenticate: Bearer`
//! challenge, and ask its realm for a token.

/// A parsed `Bearer realm="…",service="…",scope="…"` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The token endpoint's URL, as the registry gave it (checked by
    /// [`check_realm`](Self::check_realm) before credentials go there).
    pub realm: String,
    /// The `service` parameter to send back to the realm, if any.
    pub service: Option<String>,
    /// The `scope` the registry asked for (`repository:<name>:pull`), if any.
    pub scope: Option<String>,
}

impl BearerChallenge {
    /// Parses a `WWW-Authenticate` header value. `None` when it is not a `Bearer` challenge or
    /// has no `realm`. Parameters are RFC 9110 auth-params: `key=token` or `key="quoted"` (with
    /// `\` escapes), so a quoted value may hold commas (`scope="repository:m:pull,push"`).
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim_start();
        let (scheme, params) = header.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = auth_params(params)?;
        let get = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        Some(BearerChallenge {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    }

    /// Whether credentials may go to this realm, for a registry reached at `registry_scheme`
    /// (`http`/`https`) and `registry` (`host[:port]`). The rule:
    /// - a realm on the registry's host is used with the registry's scheme or HTTPS;
    /// - a realm on another host only over HTTPS (and the user is told where it is);
    /// - an HTTPS registry's realm over plain HTTP is refused, whatever its host.
    pub fn check_realm(&self, registry_scheme: &str, registry: &str) -> Result<RealmUse, String> {
        let url = reqwest::Url::parse(&self.realm)
            .map_err(|_| format!("token realm {:?} is not a URL", self.realm))?;
        let realm_shown = crate::net::redact(&self.realm);
        let scheme = url.scheme();
        if scheme != "https" && scheme != "http" {
            return Err(format!("token realm {realm_shown} is not http(s)"));
        }
        if registry_scheme == "https" && scheme == "http" {
            return Err(format!(
                "refusing token realm {realm_shown}: the registry {registry} is HTTPS and the \
                 realm would take the credentials over plain HTTP"
            ));
        }
        let realm_host = match url.host_str() {
            Some(h) => h.to_ascii_lowercase(),
            None => return Err(format!("token realm {realm_shown} has no host")),
        };
        let realm_host = if realm_host.contains(':') && !realm_host.starts_with('[') {
            format!("[{realm_host}]")
        } else {
            realm_host
        };
        let (registry_host, _) = crate::net::split_host_port(registry);
        if realm_host == registry_host {
            return Ok(RealmUse::SameHost);
        }
        if scheme != "https" {
            return Err(format!(
                "refusing token realm {realm_shown}: it is on another host than the registry \
                 {registry} and plain HTTP; credentials go to another host only over HTTPS"
            ));
        }
        Ok(RealmUse::OtherHost(realm_host))
    }

    /// The token request: realm with service and scope, basic credentials if any. Callers check
    /// the realm with [`check_realm`](Self::check_realm) before passing credentials.
    pub fn token_request(
        &self,
        client: &reqwest::Client,
        scope: Option<&str>,
        basic: Option<(&str, &str)>,
    ) -> reqwest::RequestBuilder {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(service) = &self.service {
            query.push(("service", service));
        }
        if let Some(scope) = scope.or(self.scope.as_deref()) {
            query.push(("scope", scope));
        }
        let mut request = client
            .get(&self.realm)
            .query(&query)
            .timeout(crate::net::timeouts().request);
        if let Some((user, password)) = basic {
            request = request.basic_auth(user, Some(password));
        }
        request
    }

    /// Fetches a token (`token` or `access_token` in the JSON answer), sending `basic` only when
    /// the realm passes [`check_realm`](Self::check_realm) for the registry; a refused realm is
    /// an error naming it and why.
    pub async fn token(
        &self,
        client: &reqwest::Client,
        registry_scheme: &str,
        registry: &str,
        scope: Option<&str>,
        basic: Option<(&str, &str)>,
    ) -> Result<Option<String>, String> {
        if basic.is_some() {
            self.check_realm(registry_scheme, registry)?;
        }
        let Ok(response) = self.token_request(client, scope, basic).send().await else {
            return Ok(None);
        };
        if !response.status().is_success() {
            return Ok(None);
        }
        let Ok(body) =
            crate::net::read_capped(response, MAX_TOKEN_BYTES, "token realm", "a token answer")
                .await
        else {
            return Ok(None);
        };
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return Ok(None);
        };
        Ok(body
            .get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string))
    }
}

/// Where a realm that passed the rule is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RealmUse {
    /// On the registry's own host.
    SameHost,
    /// Another host, over HTTPS: allowed, and worth telling the user.
    OtherHost(String),
}

/// A token answer is a small JSON document.
pub const MAX_TOKEN_BYTES: u64 = 1024 * 1024;

/// `k=v, k="v, with \"quotes\""` into pairs; `None` when malformed (an unclosed quote, a
/// parameter without `=`).
fn auth_params(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim();
        if key.is_empty() || key.contains([',', ' ', '"']) {
            return None;
        }
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => value.push(chars.next()?.1),
                    (i, '"') => break i + 1,
                    (_, c) => value.push(c),
                }
            };
            (value, &quoted[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim_end().to_string(), &after[end..])
        };
        out.push((key.to_string(), value));
        let tail = tail.trim_start();
        rest = match tail.strip_prefix(',') {
            Some(t) => t.trim_start(),
            None if tail.is_empty() => tail,
            None => return None,
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_as_registries_send_them() {
        let c = BearerChallenge::parse(r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/m:pull""#).unwrap();
        assert_eq!(c.realm, "https://ghcr.io/token");
        assert_eq!(c.service.as_deref(), Some("ghcr.io"));
        assert_eq!(c.scope.as_deref(), Some("repository:org/m:pull"));
        assert!(BearerChallenge::parse(r#"Basic realm="x""#).is_none());
        assert!(BearerChallenge::parse(r#"Bearer service="x""#).is_none());
    }

    #[test]
    fn quoted_values_keep_their_commas_and_escapes() {
        // Docker Hub asks for two actions in one scope; a realm may carry a query.
        let c = BearerChallenge::parse(
            r#"bearer realm="https://auth.example/token?a=1,b=2", scope="repository:library/m:pull,push",service=reg"#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://auth.example/token?a=1,b=2");
        assert_eq!(c.scope.as_deref(), Some("repository:library/m:pull,push"));
        assert_eq!(c.service.as_deref(), Some("reg"));
        let c = BearerChallenge::parse(r#"Bearer realm="https://a.example/t",error="x \"y\"""#)
            .unwrap();
        assert_eq!(c.realm, "https://a.example/t");
        // Malformed: an unclosed quote, a parameter without a value.
        assert!(BearerChallenge::parse(r#"Bearer realm="https://a.example/t"#).is_none());
        assert!(BearerChallenge::parse(r#"Bearer realm="https://a.example/t", junk"#).is_none());
    }

    #[test]
    fn realms_that_leak_credentials_are_refused() {
        let realm = |r: &str| BearerChallenge {
            realm: r.into(),
            service: None,
            scope: None,
        };
        assert_eq!(
            realm("https://reg.example/token").check_realm("https", "reg.example:443"),
            Ok(RealmUse::SameHost)
        );
        assert_eq!(
            realm("https://auth.example/token").check_realm("https", "reg.example"),
            Ok(RealmUse::OtherHost("auth.example".into()))
        );
        assert!(
            realm("http://reg.example/token")
                .check_realm("https", "reg.example")
                .is_err()
        );
        assert!(
            realm("http://other/token")
                .check_realm("https", "reg.example")
                .is_err()
        );
        assert!(
            realm("http://other/token")
                .check_realm("http", "localhost:5000")
                .is_err()
        );
        assert_eq!(
            realm("http://localhost:5001/token").check_realm("http", "localhost:5000"),
            Ok(RealmUse::SameHost)
        );
        assert!(
            realm("ftp://reg.example/t")
                .check_realm("https", "reg.example")
                .is_err()
        );
    }
}
