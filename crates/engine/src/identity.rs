//! Who a per-customer limit counts: the customer account, or the person behind several accounts
//! (one e-mail, one phone, or a value the checkout sends such as a device id).

use crate::model::{Customer, Metadata};
use serde_json::Value;

/// A project's choice of what a per-customer counter counts by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IdentityRule {
    /// The customer account (its id, else source id, else e-mail).
    #[default]
    Customer,
    /// The normalised e-mail ([`normalise_email`]).
    Email,
    /// The phone, digits only ([`normalise_phone`]).
    Phone,
    /// A value of the request's `metadata` (validation or redemption), e.g. a device id.
    Metadata(String),
}

impl IdentityRule {
    /// `customer`, `email`, `phone` or `metadata.<key>` (a key of 1–100 characters).
    pub fn parse(s: &str) -> Option<IdentityRule> {
        Some(match s {
            "customer" => IdentityRule::Customer,
            "email" => IdentityRule::Email,
            "phone" => IdentityRule::Phone,
            other => {
                let key = other.strip_prefix("metadata.")?;
                if key.is_empty() || key.chars().count() > 100 {
                    return None;
                }
                IdentityRule::Metadata(key.to_owned())
            }
        })
    }

    pub fn as_string(&self) -> String {
        match self {
            IdentityRule::Customer => "customer".into(),
            IdentityRule::Email => "email".into(),
            IdentityRule::Phone => "phone".into(),
            IdentityRule::Metadata(k) => format!("metadata.{k}"),
        }
    }

    /// The identity per-customer counters use for this shopper, when the rule finds one (else
    /// the account's own: a shopper without an e-mail is still counted, by their account).
    pub fn identity_of(&self, customer: Option<&Customer>, metadata: &Metadata) -> Option<String> {
        match self {
            IdentityRule::Customer => None,
            IdentityRule::Email => customer?.email.as_deref().and_then(normalise_email).map(|e| format!("email:{e}")),
            IdentityRule::Phone => customer?.phone.as_deref().and_then(normalise_phone).map(|p| format!("phone:{p}")),
            IdentityRule::Metadata(key) => {
                let v = match metadata.get(key)? {
                    Value::String(s) => s.trim().to_owned(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                (!v.is_empty() && v.chars().count() <= 200).then(|| format!("metadata.{key}:{v}"))
            }
        }
    }
}

/// Providers whose mailboxes ignore `+tags` (and, for Gmail, dots in the local part).
const TAGS_IGNORED: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "fastmail.com",
    "proton.me",
    "protonmail.com",
];

/// An e-mail as the mailbox it reaches: lower case; for the providers that ignore them, without a
/// `+tag`, and for Gmail without dots (`J.Doe+promo@GoogleMail.com` → `jdoe@gmail.com`). `None`
/// when it is not an address.
pub fn normalise_email(raw: &str) -> Option<String> {
    let lower = raw.trim().to_lowercase();
    let (local, domain) = lower.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || !domain.contains('.') {
        return None;
    }
    let domain = if domain == "googlemail.com" { "gmail.com" } else { domain };
    let mut local = local.to_owned();
    if TAGS_IGNORED.contains(&domain)
        && let Some(plus) = local.find('+')
    {
        local.truncate(plus);
    }
    if domain == "gmail.com" {
        local.retain(|c| c != '.');
    }
    (!local.is_empty()).then(|| format!("{local}@{domain}"))
}

/// A phone as its digits (a leading `+` kept): `+48 600-100-200` → `+48600100200`. `None` with
/// fewer than 6 digits.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    Some(if trimmed.starts_with('+') { format!("+{digits}") } else { digits })
}

/// An IP as one form (`::ffff:1.2.3.4` is `1.2.3.4`); an IPv6 shopper counts by its /64, the
/// block one household or device gets.
pub fn normalise_ip(raw: &str) -> Option<String> {
    match raw.trim().parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => Some(v4.to_string()),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Some(v4.to_string()),
            None => {
                let s = v6.segments();
                Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_addresses_reach_one_mailbox_however_spelled() {
        for spelled in ["jdoe@gmail.com", "J.Doe@Gmail.com", "j.d.o.e+promo@googlemail.com", " JDOE+x@GMAIL.COM "] {
            assert_eq!(normalise_email(spelled).as_deref(), Some("jdoe@gmail.com"), "{spelled}");
        }
    }

    #[test]
    fn other_providers_keep_dots_and_unknown_ones_keep_tags() {
        assert_eq!(normalise_email("J.Doe+x@Outlook.com").as_deref(), Some("j.doe@outlook.com"));
        assert_eq!(normalise_email("j.doe+x@example.com").as_deref(), Some("j.doe+x@example.com"));
        assert_eq!(normalise_email("not-an-address"), None);
        assert_eq!(normalise_email("+@gmail.com"), None);
        assert_eq!(normalise_email("a@localhost"), None);
    }

    #[test]
    fn ips_compare_in_one_form() {
        assert_eq!(normalise_ip(" 203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(normalise_ip("::ffff:203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(normalise_ip("2001:db8:1:2::5"), normalise_ip("2001:0db8:0001:0002:ffff::1"));
        assert_eq!(normalise_ip("2001:db8:1:2::5").as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(normalise_ip("not an ip"), None);
    }

    #[test]
    fn phones_compare_by_digits() {
        assert_eq!(normalise_phone("+48 600-100-200").as_deref(), Some("+48600100200"));
        assert_eq!(normalise_phone("(600) 100 200").as_deref(), Some("600100200"));
        assert_eq!(normalise_phone("12-34"), None);
    }

    #[test]
    fn rules_parse_and_find_identities() {
        assert_eq!(IdentityRule::parse("metadata.device_id"), Some(IdentityRule::Metadata("device_id".into())));
        assert_eq!(IdentityRule::parse("metadata."), None);
        assert_eq!(IdentityRule::parse("ip"), None);
        let c = Customer { email: Some("A.B@gmail.com".into()), ..Customer::default() };
        let none = Metadata::default();
        assert_eq!(IdentityRule::Email.identity_of(Some(&c), &none).as_deref(), Some("email:ab@gmail.com"));
        assert_eq!(IdentityRule::Phone.identity_of(Some(&c), &none), None);
        assert_eq!(IdentityRule::Customer.identity_of(Some(&c), &none), None);
        let mut m = Metadata::default();
        m.insert("device_id".into(), Value::String("dev-1".into()));
        let rule = IdentityRule::parse("metadata.device_id").unwrap();
        assert_eq!(rule.identity_of(None, &m).as_deref(), Some("metadata.device_id:dev-1"));
        assert_eq!(rule.as_string(), "metadata.device_id");
    }
}
