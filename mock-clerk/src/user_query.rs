//! The filters and order of `GET /v1/users` and `GET /v1/users/count`, as Clerk's Backend API reads them
//! (`bapi/2026-05-12.yml`, `ListUsers`): repeatable `email_address`, `phone_number`, `username`, `external_id`,
//! `user_id`, `organization_id` (the last three take `+id` / `-id` to include or exclude), the `query` family of
//! case-insensitive substring searches, time ranges, `banned`, `provider` + `provider_user_id`, and one `order_by`.

use std::cmp::Ordering;

use crate::error::ApiError;
use crate::extract::{query_all, query_one};
use crate::store::User;

/// Ids to keep (`id` or `+id`) and to drop (`-id`). Empty: no filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdFilter {
    /// Kept; if any are given, only these.
    pub include: Vec<String>,
    /// Dropped.
    pub exclude: Vec<String>,
}

impl IdFilter {
    fn parse(values: Vec<String>) -> Self {
        let mut filter = Self::default();
        for v in values {
            match v.strip_prefix('-') {
                Some(id) => filter.exclude.push(id.to_owned()),
                None => filter.include.push(v.strip_prefix('+').unwrap_or(&v).to_owned()),
            }
        }
        filter
    }

    /// Whether a record holding `ids` passes.
    fn admits<'a>(&self, mut ids: impl Iterator<Item = &'a str> + Clone) -> bool {
        (self.include.is_empty() || ids.clone().any(|id| self.include.iter().any(|i| i == id))) && !ids.any(|id| self.exclude.iter().any(|e| e == id))
    }
}

/// What `order_by` sorts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    CreatedAt,
    UpdatedAt,
    EmailAddress,
    Web3Wallet,
    FirstName,
    LastName,
    PhoneNumber,
    Username,
    LastActiveAt,
    LastSignInAt,
}

/// `order_by`: a field and a direction (`-` descending, `+` or nothing ascending). Default `-created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserOrder {
    /// The field.
    pub field: OrderField,
    /// Newest / largest first.
    pub descending: bool,
}

impl Default for UserOrder {
    fn default() -> Self {
        Self { field: OrderField::CreatedAt, descending: true }
    }
}

impl UserOrder {
    fn parse(value: &str) -> Option<Self> {
        let (descending, name) = match value.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, value.strip_prefix('+').unwrap_or(value)),
        };
        let field = match name {
            "created_at" => OrderField::CreatedAt,
            "updated_at" => OrderField::UpdatedAt,
            "email_address" => OrderField::EmailAddress,
            "web3wallet" => OrderField::Web3Wallet,
            "first_name" => OrderField::FirstName,
            "last_name" => OrderField::LastName,
            "phone_number" => OrderField::PhoneNumber,
            "username" => OrderField::Username,
            "last_active_at" => OrderField::LastActiveAt,
            "last_sign_in_at" => OrderField::LastSignInAt,
            _ => return None,
        };
        Some(Self { field, descending })
    }

    /// Compares two users; values a user lacks sort as Postgres sorts NULL (after every value ascending, before
    /// every value descending). Ties fall back to newest first, then the id, so pages never overlap.
    pub fn compare(&self, a: &User, b: &User) -> Ordering {
        fn text(u: &User, field: OrderField) -> Option<String> {
            match field {
                OrderField::EmailAddress => u.email_addresses.first().map(|(_, e)| e.to_ascii_lowercase()),
                OrderField::FirstName => u.first_name.as_ref().map(|s| s.to_lowercase()),
                OrderField::LastName => u.last_name.as_ref().map(|s| s.to_lowercase()),
                OrderField::PhoneNumber => u.mfa.phone_numbers.first().map(|p| p.phone_number.clone()),
                OrderField::Username => u.username.clone(),
                _ => None,
            }
        }
        fn time(u: &User, field: OrderField) -> Option<i64> {
            match field {
                OrderField::CreatedAt => Some(u.created_at),
                OrderField::UpdatedAt => Some(u.updated_at),
                OrderField::LastActiveAt | OrderField::LastSignInAt => u.last_sign_in_at,
                _ => None,
            }
        }
        let primary = match self.field {
            OrderField::CreatedAt | OrderField::UpdatedAt | OrderField::LastActiveAt | OrderField::LastSignInAt => {
                null_last(time(a, self.field), time(b, self.field))
            }
            OrderField::Web3Wallet => Ordering::Equal,
            _ => null_last(text(a, self.field), text(b, self.field)),
        };
        let primary = if self.descending { primary.reverse() } else { primary };
        primary.then_with(|| b.created_at.cmp(&a.created_at)).then_with(|| a.id.cmp(&b.id))
    }
}

/// `None` after every value (ascending).
fn null_last<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Filters and order for listing users.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserQuery {
    /// Only users with one of these email addresses (case-insensitive).
    pub email_address: Vec<String>,
    /// Only users with one of these phone numbers.
    pub phone_number: Vec<String>,
    /// Only users with one of these usernames.
    pub username: Vec<String>,
    /// By user id (`+`/`-`).
    pub user_id: IdFilter,
    /// By external id (`+`/`-`).
    pub external_id: IdFilter,
    /// By organization membership (`+`/`-`): matched against the organization ids [`UserQuery::matches`] is
    /// given for the user (the store passes the user's memberships).
    pub organization_id: IdFilter,
    /// Substring of an email address, phone number, username, id, first or last name (case-insensitive).
    pub query: Option<String>,
    /// Substring of an email address.
    pub email_address_query: Option<String>,
    /// Substring of a phone number.
    pub phone_number_query: Option<String>,
    /// Substring of the username.
    pub username_query: Option<String>,
    /// Substring of the first or last name (or both, "first last").
    pub name_query: Option<String>,
    /// mock-clerk's users are never banned: `true` matches none.
    pub banned: Option<bool>,
    /// Created before / after (milliseconds).
    pub created_at_before: Option<i64>,
    /// Created before / after (milliseconds).
    pub created_at_after: Option<i64>,
    /// Last sign-in before / after (milliseconds); a user never signed in matches neither.
    pub last_sign_in_at_before: Option<i64>,
    /// Last sign-in before / after (milliseconds).
    pub last_sign_in_at_after: Option<i64>,
    /// Last activity (mock-clerk: last sign-in) before / after (milliseconds).
    pub last_active_at_before: Option<i64>,
    /// Last activity after (milliseconds); `last_active_at_since` is the same.
    pub last_active_at_after: Option<i64>,
    /// `provider` (`oauth_google`) with `provider_user_id`s.
    pub provider: Option<(String, Vec<String>)>,
    /// The order.
    pub order: UserOrder,
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(needle)
}

impl UserQuery {
    /// Reads the query parameters (`query_pairs`); a malformed value is Clerk's 422.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let text = |name: &str| query_one(pairs, name).map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
        let ms = |name: &str| -> Result<Option<i64>, ApiError> {
            query_one(pairs, name)
                .map(|v| {
                    v.parse::<i64>().map_err(|_| ApiError::FormParamInvalid {
                        param: name.into(),
                        message: format!("{name} must be a Unix timestamp in milliseconds"),
                    })
                })
                .transpose()
        };
        let banned = match query_one(pairs, "banned").as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(ApiError::FormParamInvalid { param: "banned".into(), message: "banned must be true or false".into() }),
        };
        // Clerk keeps only the first `order_by`.
        let order = match pairs.iter().find(|(k, _)| k == "order_by") {
            None => UserOrder::default(),
            Some((_, v)) => UserOrder::parse(v).ok_or_else(|| ApiError::FormParamInvalid {
                param: "order_by".into(),
                message: format!(
                    "{v:?} cannot be ordered by: use created_at, updated_at, email_address, web3wallet, first_name, last_name, phone_number, username, last_active_at or last_sign_in_at, optionally prefixed by + or -"
                ),
            })?,
        };
        let provider = match (query_one(pairs, "provider"), query_all(pairs, "provider_user_id")) {
            (None, ids) if ids.is_empty() => None,
            (Some(p), ids) if !ids.is_empty() => Some((p, ids)),
            _ => {
                return Err(ApiError::FormParamInvalid {
                    param: "provider".into(),
                    message: "provider and provider_user_id must be given together".into(),
                });
            }
        };
        Ok(Self {
            email_address: query_all(pairs, "email_address"),
            phone_number: query_all(pairs, "phone_number"),
            username: query_all(pairs, "username"),
            user_id: IdFilter::parse(query_all(pairs, "user_id")),
            external_id: IdFilter::parse(query_all(pairs, "external_id")),
            organization_id: IdFilter::parse(query_all(pairs, "organization_id")),
            query: text("query"),
            email_address_query: text("email_address_query"),
            phone_number_query: text("phone_number_query"),
            username_query: text("username_query"),
            name_query: text("name_query"),
            banned,
            created_at_before: ms("created_at_before")?,
            created_at_after: ms("created_at_after")?,
            last_sign_in_at_before: ms("last_sign_in_at_before")?,
            last_sign_in_at_after: ms("last_sign_in_at_after")?,
            last_active_at_before: ms("last_active_at_before")?,
            last_active_at_after: ms("last_active_at_after")?.or(ms("last_active_at_since")?),
            provider,
            order,
        })
    }

    /// Whether `user`, a member of the organizations `organization_ids`, passes every filter.
    pub fn matches(&self, user: &User, organization_ids: &[&str]) -> bool {
        let emails = || user.email_addresses.iter().map(|(_, e)| e.as_str());
        let phones = || user.mfa.phone_numbers.iter().map(|p| p.phone_number.as_str());
        let names = || [user.first_name.as_deref(), user.last_name.as_deref()].into_iter().flatten();
        let full_name = || names().collect::<Vec<_>>().join(" ");
        let before = |t: Option<i64>, bound: Option<i64>| bound.is_none_or(|b| t.is_some_and(|t| t < b));
        let after = |t: Option<i64>, bound: Option<i64>| bound.is_none_or(|b| t.is_some_and(|t| t > b));
        (self.email_address.is_empty() || emails().any(|e| self.email_address.iter().any(|q| q.eq_ignore_ascii_case(e))))
            && (self.phone_number.is_empty() || phones().any(|p| self.phone_number.iter().any(|q| q == p)))
            && (self.username.is_empty() || user.username.as_ref().is_some_and(|u| self.username.iter().any(|q| q.eq_ignore_ascii_case(u))))
            && self.user_id.admits(std::iter::once(user.id.as_str()))
            && self.external_id.admits(user.external_id.as_deref().into_iter())
            && self.organization_id.admits(organization_ids.iter().copied())
            && self.query.as_deref().is_none_or(|q| {
                emails()
                    .chain(phones())
                    .chain(user.username.as_deref())
                    .chain(names())
                    .chain(std::iter::once(user.id.as_str()))
                    .any(|f| contains(f, q))
                    || contains(&full_name(), q)
            })
            && self.email_address_query.as_deref().is_none_or(|q| emails().any(|e| contains(e, q)))
            && self.phone_number_query.as_deref().is_none_or(|q| phones().any(|p| contains(p, q)))
            && self.username_query.as_deref().is_none_or(|q| user.username.as_deref().is_some_and(|u| contains(u, q)))
            && self.name_query.as_deref().is_none_or(|q| names().any(|n| contains(n, q)) || contains(&full_name(), q))
            && self.banned != Some(true)
            && before(Some(user.created_at), self.created_at_before)
            && after(Some(user.created_at), self.created_at_after)
            && before(user.last_sign_in_at, self.last_sign_in_at_before)
            && after(user.last_sign_in_at, self.last_sign_in_at_after)
            && before(user.last_sign_in_at, self.last_active_at_before)
            && after(user.last_sign_in_at, self.last_active_at_after)
            && self.provider.as_ref().is_none_or(|(provider, ids)| {
                user.external_accounts
                    .iter()
                    .any(|e| provider.strip_prefix("oauth_") == Some(e.provider.as_str()) && ids.contains(&e.provider_user_id))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::query_pairs;

    #[test]
    fn order_by_parses_direction_and_rejects_unknown_fields() {
        let q = UserQuery::from_pairs(&query_pairs(Some("order_by=last_name&order_by=-created_at"))).unwrap();
        assert_eq!(q.order, UserOrder { field: OrderField::LastName, descending: false }, "only the first order_by counts");
        let q = UserQuery::from_pairs(&query_pairs(Some("order_by=%2Bupdated_at"))).unwrap();
        assert_eq!(q.order, UserOrder { field: OrderField::UpdatedAt, descending: false });
        assert!(UserQuery::from_pairs(&query_pairs(Some("order_by=password"))).is_err());
        assert!(UserQuery::from_pairs(&query_pairs(Some("created_at_after=yesterday"))).is_err());
        assert!(UserQuery::from_pairs(&query_pairs(Some("provider=oauth_google"))).is_err());
    }

    #[test]
    fn id_filters_include_and_exclude() {
        let f = IdFilter::parse(vec!["+a".into(), "-b".into(), "c".into()]);
        assert_eq!((f.include.clone(), f.exclude.clone()), (vec!["a".to_owned(), "c".to_owned()], vec!["b".to_owned()]));
        assert!(f.admits(["a"].into_iter()) && !f.admits(["b"].into_iter()) && !f.admits(["d"].into_iter()));
        let only_exclude = IdFilter::parse(vec!["-b".into()]);
        assert!(only_exclude.admits(["a"].into_iter()) && only_exclude.admits(std::iter::empty()) && !only_exclude.admits(["b"].into_iter()));
    }
}
