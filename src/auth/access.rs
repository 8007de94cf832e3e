//! Evaluation of an entry's access-control rules for one thumbnail request.

use super::ks::{KsError, parse_ks};
use crate::store::{AccessRules, Partner};

/// The parts of a request that access control reads.
#[derive(Clone, Copy, Debug)]
pub struct AccessRequest<'a> {
    pub ks: Option<&'a str>,
    /// Referring page: the decoded `referrer` parameter, else the `Referer` header.
    pub referrer: Option<&'a str>,
    pub wants_capture: bool,
    pub now: i64,
}

/// Reason access was denied. Each maps to one URL API error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    #[error("ks is not a valid string")]
    InvalidKsString,
    #[error("ks is invalid: {0}")]
    InvalidKs(KsError),
    #[error("ks has expired")]
    KsExpired,
    #[error("access control restricts this entry: {0}")]
    Restricted(&'static str),
    #[error("frame capture is blocked for this entry")]
    CaptureBlocked,
}

/// Applies `rules` of an entry owned by `partner`. A valid admin KS of the partner
/// passes every rule. Rules without a blocking action never look at the KS.
pub fn check_access(
    rules: &AccessRules,
    partner: &Partner,
    request: &AccessRequest<'_>,
) -> Result<(), AccessDenied> {
    if !rules.has_blocking_rule() {
        return Ok(());
    }

    let session = match request.ks.filter(|ks| !ks.is_empty()) {
        None => None,
        Some(text) => {
            let ks = parse_ks(text).map_err(|_| AccessDenied::InvalidKsString)?;
            match ks.verify_and_open(partner.id, &partner.admin_secret, request.now) {
                Ok(opened) => Some(opened),
                Err(KsError::Expired { .. }) => return Err(AccessDenied::KsExpired),
                Err(error) => return Err(AccessDenied::InvalidKs(error)),
            }
        }
    };
    if session.as_ref().is_some_and(|ks| ks.is_admin()) {
        return Ok(());
    }

    if rules.require_ks && session.is_none() {
        return Err(AccessDenied::Restricted("a valid ks is required"));
    }
    let host = request.referrer.map(referrer_host);
    if !rules.allowed_referrers.is_empty()
        && !host
            .as_deref()
            .is_some_and(|h| matches_any(h, &rules.allowed_referrers))
    {
        return Err(AccessDenied::Restricted("referrer is not allowed"));
    }
    if host
        .as_deref()
        .is_some_and(|h| matches_any(h, &rules.blocked_referrers))
    {
        return Err(AccessDenied::Restricted("referrer is blocked"));
    }
    if rules.block_capture && request.wants_capture {
        return Err(AccessDenied::CaptureBlocked);
    }
    Ok(())
}

/// Host part of a referrer URL; a bare domain is taken as it is.
fn referrer_host(referrer: &str) -> String {
    url::Url::parse(referrer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| referrer.split(['/', ':']).next().unwrap_or("").to_string())
        .to_ascii_lowercase()
}

/// True when `host` is one of `domains` or a subdomain of one.
fn matches_any(host: &str, domains: &[String]) -> bool {
    domains.iter().any(|domain| {
        let domain = domain.trim().trim_start_matches('.').to_ascii_lowercase();
        host == domain || host.ends_with(&format!(".{domain}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ks::{SessionType, create_ks_v1};
    use crate::store::PartnerSettings;

    const NOW: i64 = 1_700_000_000;

    fn partner() -> Partner {
        Partner {
            id: 5,
            admin_secret: "admin".into(),
            secret: "user".into(),
            status: 1,
            settings: PartnerSettings::default(),
        }
    }

    fn request<'a>(ks: Option<&'a str>, referrer: Option<&'a str>) -> AccessRequest<'a> {
        AccessRequest {
            ks,
            referrer,
            wants_capture: false,
            now: NOW,
        }
    }

    #[test]
    fn referrer_lists_match_subdomains() {
        let rules = AccessRules {
            allowed_referrers: vec!["example.com".into()],
            ..Default::default()
        };
        let allowed = request(None, Some("https://www.example.com/page"));
        assert_eq!(check_access(&rules, &partner(), &allowed), Ok(()));
        let other = request(None, Some("https://evil.test/"));
        assert!(check_access(&rules, &partner(), &other).is_err());
        let missing = request(None, None);
        assert!(check_access(&rules, &partner(), &missing).is_err());
    }

    #[test]
    fn admin_ks_bypasses_rules() {
        let rules = AccessRules {
            blocked_referrers: vec!["example.com".into()],
            ..Default::default()
        };
        let ks = create_ks_v1(5, "admin", SessionType::Admin, "", "", NOW, 60);
        let req = request(Some(&ks), Some("http://example.com"));
        assert_eq!(check_access(&rules, &partner(), &req), Ok(()));
    }

    #[test]
    fn ks_outcomes_map_to_errors() {
        let rules = AccessRules {
            require_ks: true,
            ..Default::default()
        };
        let expired = create_ks_v1(5, "admin", SessionType::User, "", "", NOW - 100, 10);
        let forged = create_ks_v1(5, "wrong", SessionType::User, "", "", NOW, 60);
        let valid = create_ks_v1(5, "admin", SessionType::User, "", "", NOW, 60);
        let p = partner();
        assert_eq!(
            check_access(&rules, &p, &request(Some("###"), None)),
            Err(AccessDenied::InvalidKsString)
        );
        assert_eq!(
            check_access(&rules, &p, &request(Some(&expired), None)),
            Err(AccessDenied::KsExpired)
        );
        assert!(matches!(
            check_access(&rules, &p, &request(Some(&forged), None)),
            Err(AccessDenied::InvalidKs(_))
        ));
        assert_eq!(
            check_access(&rules, &p, &request(Some(&valid), None)),
            Ok(())
        );
        assert!(check_access(&rules, &p, &request(None, None)).is_err());
    }
}
