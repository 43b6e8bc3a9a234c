//! The registry token flow (distribution "token authentication"), for the few requests we make
//! beside oci-client (login checks, the referrers-API probe): parse a `WWW-Authenticate: Bearer`
//! challenge, and ask its realm for a token.

/// A parsed `Bearer realm="…",service="…",scope="…"` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    pub realm: String,
    pub service: Option<String>,
    pub scope: Option<String>,
}

impl BearerChallenge {
    pub fn parse(header: &str) -> Option<Self> {
        let params = header.strip_prefix("Bearer ")?;
        let get = |key: &str| {
            params.split(',').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == key).then(|| v.trim_matches('"').to_string())
            })
        };
        Some(BearerChallenge {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    }

    /// The token request: realm with service and scope, basic credentials if any.
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
        let mut request = client.get(&self.realm).query(&query);
        if let Some((user, password)) = basic {
            request = request.basic_auth(user, Some(password));
        }
        request
    }

    /// Fetches a token (`token` or `access_token` in the JSON answer).
    pub async fn token(
        &self,
        client: &reqwest::Client,
        scope: Option<&str>,
        basic: Option<(&str, &str)>,
    ) -> Option<String> {
        let response = self.token_request(client, scope, basic).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.ok()?).ok()?;
        body.get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
    }
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
}
